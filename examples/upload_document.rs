//! Care-management software uploads a file with tus, showing a progress bar, and prints the document's id and
//! its malware-scan status.
//!
//!     cargo run -p provider-api -- demo          # prints a client_id and client_secret
//!     CLIENT_ID=… CLIENT_SECRET=… \
//!         cargo run -p provider-api-examples --example upload_document [BASE_URL] [FILE] [MEDIA_TYPE]
//!
//! BASE_URL defaults to http://127.0.0.1:8080. Without FILE, a small generated text file is uploaded.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use provider_api_sdk::{ClientBuilder, types};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base_url = args.next().unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let file = args.next();
    let media_type = args.next().unwrap_or_else(|| "text/plain".to_owned());
    let client_id = std::env::var("CLIENT_ID").map_err(|_| anyhow::anyhow!("set CLIENT_ID"))?;
    let secret = std::env::var("CLIENT_SECRET").map_err(|_| anyhow::anyhow!("set CLIENT_SECRET"))?;
    let client = ClientBuilder::new(&base_url)
        .user_agent("upload-document-example/1.0")
        .client_credentials(client_id, secret, &[])
        .build()?;
    let me = client.get_me().send().await?.into_inner();
    let organisation = me.organisations.first().ok_or_else(|| anyhow::anyhow!("this client has no organisation"))?;

    let path = match file {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            let path = std::env::temp_dir().join(format!("care-plan-review-{}.txt", std::process::id()));
            std::fs::write(&path, "Care plan review: all actions complete.\n".repeat(50_000))?;
            path
        }
    };
    let length = std::fs::metadata(&path)?.len();
    let bar = ProgressBar::new(length);
    bar.set_style(ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}")?);
    let progress = bar.clone();
    // tus in 1 MiB chunks: after a dropped connection the SDK asks the server how much it holds and goes on
    // from there; at the end it checks the server's SHA-256 against its own.
    let uploaded = client
        .uploader(organisation.organisation_id)
        .chunk_size(1024 * 1024)
        .on_progress(move |sent, _| progress.set_position(sent))
        .upload_path(&path, &media_type)
        .await?;
    bar.finish();
    println!(
        "Document {} ({} bytes, sha256 {})",
        uploaded.document_id, uploaded.document.size, uploaded.document.sha256
    );

    // Scanning happens after the upload; wait a little for its verdict.
    let mut status = uploaded.document.scan_status;
    for _ in 0..50 {
        if status != types::ScanStatus::Pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        status = client
            .get_document()
            .organisation_id(organisation.organisation_id)
            .document_id(uploaded.document_id)
            .send()
            .await?
            .into_inner()
            .scan_status;
    }
    println!("Scan status: {status}");
    Ok(())
}
