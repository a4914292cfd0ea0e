//! Counts that every node shares, kept in Redis (`rate_limit_store = "redis://…"`): the rate limits (GCRA) and
//! the sign-in backoff. Each decision is one Lua script, so it is atomic however many nodes ask at once, and
//! reads Redis's clock, so nodes whose clocks differ still agree.
//!
//! Redis is a dependency the service can live without for a while: when it stops answering, each node falls
//! back to counting on its own (the in-memory limiters beside these), logs it once, says so in `/readyz`, and
//! tries Redis again at most once a second. When Redis answers again, the counts are shared again (those
//! kept in Redis before the outage still stand; those kept locally meanwhile are not carried over).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};
use time::OffsetDateTime;

/// Redis answers in well under a millisecond on the same network; a request never waits longer than this for
/// it, and a node that cannot reach it counts on its own.
const ANSWER_WITHIN: Duration = Duration::from_millis(250);
/// How often a node that lost Redis tries it again.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// The longest a sign-in backoff lasts, and how long an idle count is kept.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// GCRA (the algorithm governor uses locally): `KEYS[1]` holds the theoretical arrival time in microseconds of
/// Redis's clock; `ARGV[1]` is the emission interval T, `ARGV[2]` the burst. Answers `{1, remaining}` or
/// `{0, microseconds to wait}`.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, tat - tolerance - now}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {1, math.floor((tolerance - (tat - now)) / interval)}
";

/// A backoff attempt (as `auth::throttle::Throttle::attempt`): `ARGV[1]` free failures, `ARGV[2]` the longest
/// wait and `ARGV[3]` how long a count lasts after its last attempt, in milliseconds. Answers `{0, the previous
/// attempt's time}` (counted) or `{milliseconds to wait, 0}` (not counted).
const ATTEMPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(redis.call('HGET', KEYS[1], 'count')) or 0
local last = tonumber(redis.call('HGET', KEYS[1], 'last')) or 0
if now - last >= tonumber(ARGV[3]) then count = 0 end
local over = count - tonumber(ARGV[1])
if over > 0 then
  local backoff = math.min(1000 * 2 ^ math.min(over - 1, 20), tonumber(ARGV[2]))
  local wait = last + backoff - now
  if wait > 0 then return {math.ceil(wait), 0} end
end
redis.call('HSET', KEYS[1], 'count', count + 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {0, last}
";

/// Takes one attempt back (a success where others share the key): the count goes down and the wait runs
/// from the attempt before it again (`ARGV[1]`, its time; 0 when there was none).
const REFUND: &str = r"
local count = tonumber(redis.call('HGET', KEYS[1], 'count')) or 0
if count > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
if tonumber(ARGV[1]) > 0 then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end
return 0
";

/// A rate limit's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gcra {
    Allowed { remaining: u32 },
    Refused { wait: Duration },
}

enum Reach {
    Shared,
    /// Redis stopped answering at `since`; try again after `retry_at`.
    Lost {
        since: OffsetDateTime,
        retry_at: Instant,
        error: String,
    },
}

/// Whether the counts are shared, for `/readyz`.
#[derive(Debug, Clone)]
pub struct Sharing {
    pub shared: bool,
    pub detail: Option<String>,
}

pub struct SharedCounts {
    client: Client,
    prefix: String,
    /// Where Redis is (host and port: the URL may carry a password), for logs and `/readyz`.
    address: String,
    connection: Mutex<Option<MultiplexedConnection>>,
    connecting: tokio::sync::Mutex<()>,
    reach: Mutex<Reach>,
    gcra: Script,
    attempt: Script,
    refund: Script,
}

impl SharedCounts {
    /// For `url` (`redis://host:port/`), with every key under `prefix`. Connects lazily.
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        if !url.starts_with("redis://") {
            return Err("must be `memory` or a redis:// URL".into());
        }
        let client = Client::open(url).map_err(|e| e.to_string())?;
        let address = client.get_connection_info().addr().to_string();
        Ok(Self {
            client,
            prefix: prefix.to_owned(),
            address,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            reach: Mutex::new(Reach::Shared),
            gcra: Script::new(GCRA),
            attempt: Script::new(ATTEMPT),
            refund: Script::new(REFUND),
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Spends one request of a `quota` a minute for `key` of limit `name`; `None` when Redis is not answering.
    pub async fn gcra(&self, name: &str, key: &str, quota: u32) -> Option<Gcra> {
        let interval = 60_000_000 / u64::from(quota.max(1));
        let mut invocation = self.gcra.key(format!("{}:rl:{name}:{key}", self.prefix));
        invocation.arg(interval).arg(quota);
        let (allowed, value): (i64, i64) =
            self.run(|mut c| async move { invocation.invoke_async(&mut c).await }).await?;
        Some(if allowed == 1 {
            Gcra::Allowed { remaining: u32::try_from(value.max(0)).unwrap_or(u32::MAX) }
        } else {
            Gcra::Refused { wait: Duration::from_micros(value.max(0) as u64) }
        })
    }

    /// A backoff attempt for `key` of throttle `name`: the previous attempt's time (Redis milliseconds, 0 for
    /// none) once counted, or the wait; `None` when Redis is not answering.
    pub async fn attempt(&self, name: &str, key: &str, free: u32) -> Option<Result<i64, Duration>> {
        let mut invocation = self.attempt.key(self.backoff_key(name, key));
        invocation.arg(free).arg(MAX_WAIT.as_millis() as u64).arg(FORGET_AFTER.as_millis() as u64);
        let (wait, last): (i64, i64) = self.run(|mut c| async move { invocation.invoke_async(&mut c).await }).await?;
        Some(if wait > 0 { Err(Duration::from_millis(wait as u64)) } else { Ok(last) })
    }

    /// Takes back an attempt whose predecessor was at `last` (as [`attempt`](Self::attempt) answered).
    pub async fn refund(&self, name: &str, key: &str, last: i64) -> Option<()> {
        let mut invocation = self.refund.key(self.backoff_key(name, key));
        invocation.arg(last);
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await }).await.map(drop)
    }

    pub async fn clear(&self, name: &str, key: &str) -> Option<()> {
        let key = self.backoff_key(name, key);
        self.run(|mut c| async move { redis::cmd("DEL").arg(key).query_async::<i64>(&mut c).await }).await.map(drop)
    }

    /// Asks Redis now (a `PING`), and says whether the counts are shared.
    pub async fn sharing(&self) -> Sharing {
        let answered =
            self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await }).await.is_some();
        match &*self.reach.lock().expect("not poisoned") {
            Reach::Shared if answered => Sharing { shared: true, detail: None },
            Reach::Lost { since, error, .. } => Sharing {
                shared: false,
                detail: Some(format!(
                    "Redis at {} has not answered since {since}; this node counts its limits on its own until it \
                     does ({error}).",
                    self.address
                )),
            },
            Reach::Shared => {
                Sharing { shared: false, detail: Some(format!("Redis at {} is not answering.", self.address)) }
            }
        }
    }

    fn backoff_key(&self, name: &str, key: &str) -> String {
        format!("{}:bo:{name}:{key}", self.prefix)
    }

    /// Runs `call` on the connection, within [`ANSWER_WITHIN`]; `None` (and the node counts on its own) when
    /// Redis cannot be reached or does not answer.
    async fn run<T, F, Fut>(&self, call: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection().await?;
        match tokio::time::timeout(ANSWER_WITHIN, call(connection)).await {
            Ok(Ok(value)) => {
                self.answered();
                Some(value)
            }
            Ok(Err(error)) => {
                self.lost(error.to_string());
                None
            }
            Err(_) => {
                self.lost(format!("no answer within {} ms", ANSWER_WITHIN.as_millis()));
                None
            }
        }
    }

    async fn connection(&self) -> Option<MultiplexedConnection> {
        if let Some(connection) = self.connection.lock().expect("not poisoned").clone() {
            return Some(connection);
        }
        if let Reach::Lost { retry_at, .. } = &*self.reach.lock().expect("not poisoned")
            && Instant::now() < *retry_at
        {
            return None;
        }
        // One request connects; the others wait for it rather than all connecting at once.
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = self.connection.lock().expect("not poisoned").clone() {
            return Some(connection);
        }
        // Whoever held the lock may just have failed to connect: requests queued behind it count locally
        // rather than each trying again in turn.
        if let Reach::Lost { retry_at, .. } = &*self.reach.lock().expect("not poisoned")
            && Instant::now() < *retry_at
        {
            return None;
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(ANSWER_WITHIN))
            .set_response_timeout(Some(ANSWER_WITHIN));
        match self.client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(connection) => {
                *self.connection.lock().expect("not poisoned") = Some(connection.clone());
                Some(connection)
            }
            Err(error) => {
                self.lost(error.to_string());
                None
            }
        }
    }

    fn answered(&self) {
        let mut reach = self.reach.lock().expect("not poisoned");
        if let Reach::Lost { since, .. } = &*reach {
            tracing::info!(redis = %self.address, %since, "Redis answers again: rate limits and sign-in backoff are shared by every node again");
            *reach = Reach::Shared;
        }
    }

    fn lost(&self, error: String) {
        *self.connection.lock().expect("not poisoned") = None;
        let mut reach = self.reach.lock().expect("not poisoned");
        let retry_at = Instant::now() + RETRY_EVERY;
        match &mut *reach {
            Reach::Shared => {
                tracing::warn!(redis = %self.address, %error, "Redis is not answering: this node counts rate limits and sign-in backoff on its own until it does");
                *reach = Reach::Lost { since: OffsetDateTime::now_utc(), retry_at, error };
            }
            Reach::Lost { retry_at: next, error: last, .. } => {
                *next = retry_at;
                *last = error;
            }
        }
    }
}
