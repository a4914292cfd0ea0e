//! The API's reference data the form pages need on every request (the notification types with their form
//! schemas; the regulated activities), kept for a few minutes: it changes only when the API is deployed, and
//! reading it once per page would spend the person's rate allowance on the same answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use provider_api_sdk::Client;
use provider_api_sdk::types::NotificationTypeView;
use tokio::sync::Mutex;

/// How long an answer is kept.
const KEPT_FOR: Duration = Duration::from_secs(300);

/// An answer and when it was read.
type Kept<T> = Mutex<Option<(Instant, Arc<T>)>>;

type ApiError = provider_api_sdk::Error<provider_api_sdk::types::Problem>;

pub struct Cache {
    /// An anonymous client: these are public operations.
    client: Client,
    types: Kept<Vec<NotificationTypeView>>,
    activities: Kept<Vec<(String, String)>>,
}

/// The kept answer while it is fresh, else `read`'s (kept in turn).
async fn fresh<T>(kept: &Kept<T>, read: impl Future<Output = Result<T, ApiError>>) -> Result<Arc<T>, ApiError> {
    let mut kept = kept.lock().await;
    if let Some((at, value)) = kept.as_ref()
        && at.elapsed() < KEPT_FOR
    {
        return Ok(value.clone());
    }
    let value = Arc::new(read.await?);
    *kept = Some((Instant::now(), value.clone()));
    Ok(value)
}

impl Cache {
    pub fn new(client: Client) -> Self {
        Self { client, types: Mutex::new(None), activities: Mutex::new(None) }
    }

    /// Every notification type, with its form's schema.
    pub async fn types(&self) -> Result<Arc<Vec<NotificationTypeView>>, ApiError> {
        fresh(&self.types, async { Ok(self.client.list_notification_types().send().await?.into_inner().items) }).await
    }

    /// The regulated activities, as (code, name).
    pub async fn activities(&self) -> Result<Arc<Vec<(String, String)>>, ApiError> {
        fresh(&self.activities, async {
            let items = self.client.list_regulated_activities().send().await?.into_inner().items;
            Ok(items.into_iter().map(|a| (a.code.to_string(), a.name)).collect())
        })
        .await
    }
}
