//! How the server treats connections over time: draining on shutdown, stalled bodies.

use std::time::Duration;

use provider_api_tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BODY: &str = r#"{"postcode": "sw1a 1aa"}"#;

/// Sends the request line, headers and the first half of the body, and leaves the rest unsent.
async fn start_request(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /v1/identifiers/validate HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        app.address,
        BODY.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&BODY.as_bytes()[..10]).await.unwrap();
    stream
}

async fn read_response(stream: &mut TcpStream) -> String {
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut response))
        .await
        .expect("the server answers")
        .unwrap();
    response
}

/// Reads up to the end of one interim or final response head (`\r\n\r\n`).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut byte))
            .await
            .expect("the server answers")
            .unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_then_refuses_new_connections() {
    let mut app = TestApp::spawn().await;
    // `Expect: 100-continue`: the server says `100 Continue` once the handler starts reading the body, so
    // the request is known to be in flight before the shutdown begins (no sleeping and hoping).
    let mut in_flight = TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /v1/identifiers/validate HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        app.address,
        BODY.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    let interim = read_head(&mut in_flight).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    in_flight.write_all(&BODY.as_bytes()[..10]).await.unwrap();

    app.begin_shutdown();
    // New connections are refused once the listener has closed; the in-flight request is still waiting.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(app.address).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "the listener was still open 10 s after shutdown began");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    in_flight.write_all(&BODY.as_bytes()[10..]).await.unwrap();

    let response = read_response(&mut in_flight).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("SW1A 1AA"), "{response}");
    app.stopped().await.unwrap();
    assert!(TcpStream::connect(app.address).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn a_stalled_body_gets_408() {
    let app = TestApp::spawn_with(|config| config.body_timeout = Duration::from_millis(300)).await;
    let mut stalled = start_request(&app).await;

    let response = read_response(&mut stalled).await;

    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains(r#""code":"request_timeout""#), "{response}");
}
