//! `spawn_app()` and the test merchants' credentials.

use std::path::Path;
use std::sync::OnceLock;

use papay::config::{Overrides, Settings};
use papay::App;
use papay_client::Client;
use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;
use time::{Duration, OffsetDateTime};

pub const MCHID: &str = "1900000100";
pub const APPID: &str = "wx8a3e6b0c5d2f4e71";
pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0119000001002025112300000000000001";
/// Merchants that reproduce the documented authentication failures.
pub const MCHID_NO_APIV3_KEY: &str = "1900000200";
pub const MCHID_NO_CERTIFICATE: &str = "1900000300";
pub const MCHID_EXPIRED_CERTIFICATE: &str = "1900000400";
pub const SUB_MCHID: &str = "1900000109";
pub const SUB_APPID: &str = "wx5c7d9e1f3a5b7c92";
pub const PLAN: i64 = 12535;
/// A plan of the main merchant that no sub-merchant may use.
pub const PLAN_NO_SUBS: i64 = 12536;
/// Another merchant, with its own AppID and plan.
pub const OTHER_MCHID: &str = "1900000700";
pub const OTHER_APPID: &str = "wx00000000000000a7";
pub const OTHER_PLAN: i64 = 22222;

/// Key material made once per test binary (RSA key generation is the slow part).
pub struct Keys {
    pub merchant_key: String,
    pub merchant_cert: String,
    pub expired_cert: String,
    pub platform_key: String,
    pub platform_cert: String,
    pub apiv3_key: String,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let merchant = PrivateKey::generate().unwrap();
        let platform = PrivateKey::generate().unwrap();
        let cert =
            |k: &PrivateKey, nb, days| Certificate::generate(k, MCHID, "Test", nb, Duration::days(days)).unwrap();
        Keys {
            merchant_cert: cert(&merchant, now - Duration::hours(1), 365).pem().to_string(),
            expired_cert: cert(&merchant, now - Duration::days(400), 365).pem().to_string(),
            platform_cert: cert(&platform, now - Duration::hours(1), 365).pem().to_string(),
            merchant_key: merchant.to_pkcs8_pem().unwrap(),
            platform_key: platform.to_pkcs8_pem().unwrap(),
            apiv3_key: ApiV3Key::generate().expose().to_string(),
        }
    })
}

pub struct TestApp {
    pub base_url: String,
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    /// The app's own PostgreSQL database, when the suite runs on PostgreSQL.
    db: Option<TestDatabase>,
    /// Checks the logs stayed clean when the app goes.
    _logs: crate::log_capture::Guard,
}

/// The admin token the off-loopback tests configure.
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
/// The main merchant's v2 API key (in [`standard_config`]).
pub const V2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// Captures the logs and registers every secret the standard config holds.
fn capture_logs() {
    crate::log_capture::install();
    let k = keys();
    for s in [&k.merchant_key, &k.platform_key, &k.apiv3_key] {
        crate::log_capture::secret(s);
    }
    crate::log_capture::secret(V2_KEY);
    crate::log_capture::secret(ADMIN_TOKEN);
}

/// The environment variable that runs the suite on PostgreSQL: an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/test`. Unset: every app uses SQLite in its directory.
pub const POSTGRES_ENV: &str = "PAPAY_TEST_POSTGRES";

/// A PostgreSQL database of one test app, created empty and dropped with the app, so tests
/// run in parallel and leave nothing behind.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    /// A fresh database when [`POSTGRES_ENV`] is set.
    pub async fn create() -> Option<TestDatabase> {
        use sqlx::Connection;
        let admin_url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
        let name = format!("papay_t_{}", papay_protocol::nonce::nonce_str().to_ascii_lowercase());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = admin_url.split('?').next().unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        Some(TestDatabase { admin_url, name, url })
    }
}

/// Drops database `name` under whoever uses it.
pub async fn drop_database(name: &str) {
    use sqlx::Connection;
    let admin_url = std::env::var(POSTGRES_ENV).unwrap();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: a thread with its own runtime may block.
        let dropped = std::thread::spawn(move || {
            use sqlx::Connection;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                // Retried: the server may be out of connections for a moment.
                let mut tries = 0;
                loop {
                    let dropped = async {
                        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin)
                            .await
                            .map(|_| ())
                    }
                    .await;
                    tries += 1;
                    if dropped.is_ok() || tries == 20 {
                        return dropped;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

impl TestApp {
    /// A client for the main test merchant, trusting the platform certificate.
    pub fn client(&self) -> Client {
        self.client_builder().build().unwrap()
    }

    pub fn client_builder(&self) -> papay_client::ClientBuilder {
        let k = keys();
        let cert = Certificate::from_pem(&k.merchant_cert).unwrap();
        Client::builder()
            .base_url(&self.base_url)
            .merchant(MCHID, cert.serial(), PrivateKey::from_pem(&k.merchant_key).unwrap())
            .apiv3_key(ApiV3Key::parse(&k.apiv3_key).unwrap())
            .platform_certificate(&Certificate::from_pem(&k.platform_cert).unwrap())
    }

    /// A client for another merchant.
    pub fn client_for(&self, mchid: &str) -> Client {
        self.client_builder()
            .merchant(
                mchid,
                self.merchant_serial(),
                PrivateKey::from_pem(&keys().merchant_key).unwrap(),
            )
            .build()
            .unwrap()
    }

    /// Calls the control API (no token); answers the status and the JSON body (`null` if none).
    pub async fn control(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        self.control_as(None, method, path, body).await
    }

    /// Calls the control API with `token` as the bearer token.
    pub async fn control_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", self.base_url));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        crate::log_capture::secrets_in(&json);
        (status, json)
    }

    /// The session id of a contract's current signing session.
    pub async fn session_of(&self, contract_id: &str) -> String {
        let (status, detail) = self
            .control("GET", &format!("/sandbox/v1/contracts/{contract_id}"), None)
            .await;
        assert_eq!(status, 200, "{detail}");
        detail["session_id"].as_str().unwrap().to_string()
    }

    /// The control API's contract detail of `mchid`'s one contract with `code`.
    pub async fn contract_by_code(&self, mchid: &str, code: &str) -> serde_json::Value {
        let (status, list) = self
            .control(
                "GET",
                &format!("/sandbox/v1/merchants/{mchid}/contracts?out_contract_code={code}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{list}");
        let all = list["contracts"].as_array().unwrap();
        assert_eq!(all.len(), 1, "exactly one contract {code}: {list}");
        all[0].clone()
    }

    /// The simulated user agrees (test-control API); answers the session view.
    pub async fn agree(&self, contract_id: &str, openid: Option<&str>) -> serde_json::Value {
        let session = self.session_of(contract_id).await;
        let body = openid.map(|o| serde_json::json!({ "openid": o }));
        let (status, json) = self
            .control("POST", &format!("/sandbox/v1/sessions/{session}/agree"), body)
            .await;
        assert_eq!(status, 200, "agree: {json}");
        json
    }

    pub fn merchant_serial(&self) -> String {
        Certificate::from_pem(&keys().merchant_cert)
            .unwrap()
            .serial()
            .to_string()
    }

    pub fn platform_serial(&self) -> String {
        Certificate::from_pem(&keys().platform_cert)
            .unwrap()
            .serial()
            .to_string()
    }
}

/// The standard test config: the main merchant (certificate mode, imported platform key
/// bound to a public-key id) and one merchant per documented credential problem.
pub fn standard_config(replay_protection: bool) -> String {
    format!(
        r#"
data_dir = "."
replay_protection = {replay_protection}

[[merchants]]
mchid = "{MCHID}"
name = "Test Store"
api_certificate = "merchant_cert.pem"
apiv3_key_file = "apiv3_key.txt"
v2_key = "{V2_KEY}"
appids = ["{APPID}"]

[[merchants.platform_keys]]
private_key = "platform_key.pem"
certificate = "platform_cert.pem"
public_key_id = "{PUBLIC_KEY_ID}"

[[merchants.sub_merchants]]
sub_mchid = "{SUB_MCHID}"
sub_appids = ["{SUB_APPID}"]

[[merchants]]
mchid = "{OTHER_MCHID}"
api_certificate = "merchant_cert.pem"
apiv3_key_file = "apiv3_key.txt"
appids = ["{OTHER_APPID}"]

[[merchants.platform_keys]]
private_key = "platform_key.pem"
certificate = "platform_cert.pem"

[[merchants]]
mchid = "{MCHID_NO_APIV3_KEY}"
api_certificate = "merchant_cert.pem"

[[merchants.platform_keys]]
private_key = "platform_key.pem"
certificate = "platform_cert.pem"

[[merchants]]
mchid = "{MCHID_NO_CERTIFICATE}"
apiv3_key_file = "apiv3_key.txt"

[[merchants.platform_keys]]
private_key = "platform_key.pem"
certificate = "platform_cert.pem"

[[merchants]]
mchid = "{MCHID_EXPIRED_CERTIFICATE}"
api_certificate = "expired_cert.pem"
apiv3_key_file = "apiv3_key.txt"

[[merchants.platform_keys]]
private_key = "platform_key.pem"
certificate = "platform_cert.pem"

[[plans]]
plan_id = {PLAN}
mchid = "{MCHID}"
name = "Monthly membership"
sub_mchids = ["{SUB_MCHID}"]
contract_validity_days = 365

[[plans]]
plan_id = {PLAN_NO_SUBS}
mchid = "{MCHID}"
name = "Yearly membership"

[[plans]]
plan_id = {OTHER_PLAN}
mchid = "{OTHER_MCHID}"
name = "Other plan"
"#
    )
}

pub fn write_key_files(dir: &Path) {
    let k = keys();
    for (name, text) in [
        ("merchant_key.pem", &k.merchant_key),
        ("merchant_cert.pem", &k.merchant_cert),
        ("expired_cert.pem", &k.expired_cert),
        ("platform_key.pem", &k.platform_key),
        ("platform_cert.pem", &k.platform_cert),
        ("apiv3_key.txt", &k.apiv3_key),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// A JSAPI pre-sign body in Common mode.
pub fn jsapi(code: &str) -> papay_protocol::contracts::PresignRequest {
    papay_protocol::contracts::PresignRequest {
        identity: common(),
        plan_id: PLAN,
        out_contract_code: code.into(),
        user_display_name: Some("Zhang San".into()),
        success_notify_url: "https://yoursite.com/papay/notify".into(),
        openid: Some("ouFhd5X9s9WteC3eWRjXV3lea123".into()),
        return_url: Some("https://yoursite.com".into()),
        ..Default::default()
    }
}

pub fn common() -> papay_protocol::contracts::Identity {
    papay_protocol::contracts::Identity::common(APPID)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(false).await
}

pub async fn spawn_app_with(replay_protection: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    std::fs::write(dir.path().join("papay.toml"), standard_config(replay_protection)).unwrap();
    spawn_config(dir).await
}

/// Starts papay on 127.0.0.1:0 with `dir/papay.toml` and a database in `dir`.
pub async fn spawn_config(dir: tempfile::TempDir) -> TestApp {
    spawn_config_on(dir, "127.0.0.1:0").await
}

/// Starts papay on `listen` with `dir/papay.toml` and a database in `dir` (or a fresh
/// PostgreSQL database, see [`POSTGRES_ENV`]).
pub async fn spawn_config_on(dir: tempfile::TempDir, listen: &str) -> TestApp {
    let db = TestDatabase::create().await;
    spawn_on_database(dir, listen, db).await
}

async fn spawn_on_database(dir: tempfile::TempDir, listen: &str, db: Option<TestDatabase>) -> TestApp {
    let url = db.as_ref().map(|d| d.url.clone());
    spawn_on(dir, listen, url, db).await
}

/// Starts papay on `database_url` (SQLite in `dir` when `None`), holding `db` (if any) until
/// the app is dropped.
async fn spawn_on(
    dir: tempfile::TempDir,
    listen: &str,
    database_url: Option<String>,
    db: Option<TestDatabase>,
) -> TestApp {
    capture_logs();
    let overrides = Overrides {
        listen: Some(listen.into()),
        database_url,
        ..Overrides::default()
    };
    let settings = Settings::load(Some(&dir.path().join("papay.toml")), &overrides).unwrap();
    let app = App::build(settings).await.unwrap();
    let base_url = app.base_url().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    TestApp {
        base_url,
        dir,
        server,
        stop,
        db,
        _logs: crate::log_capture::Guard,
    }
}

/// `n` papay instances on ONE database (a fresh PostgreSQL database when [`POSTGRES_ENV`] is
/// set; on SQLite each instance would have its own, so multi-instance tests need PostgreSQL).
/// Each instance runs in its own directory holding a copy of every file of `from`
/// (`papay.toml`, keys, a receiver's CA). The last instance owns the database, so dropping the
/// `Vec` in order drops it last; [`shutdown_all`] stops every instance before dropping it.
pub async fn spawn_instances(n: usize, from: &Path) -> Vec<TestApp> {
    assert!(n > 0);
    let mut db = TestDatabase::create().await;
    let url = db.as_ref().map(|d| d.url.clone());
    let mut apps = Vec::with_capacity(n);
    for i in 0..n {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
        }
        let owned = if i + 1 == n { db.take() } else { None };
        let app = spawn_on(dir, "127.0.0.1:0", url.clone(), owned).await;
        apps.push(app);
    }
    apps
}

/// Stops every instance gracefully (at once), then drops them: the database goes last.
pub async fn shutdown_all(apps: Vec<TestApp>) {
    let mut dbs = Vec::new();
    let mut servers = Vec::new();
    for app in apps {
        let TestApp {
            server, stop, db, dir, ..
        } = app;
        let _ = stop.send(());
        servers.push((server, dir));
        dbs.push(db);
    }
    for (server, _dir) in servers {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), server).await;
    }
    drop(dbs);
}

impl TestApp {
    /// The app's PostgreSQL database, when the suite runs on PostgreSQL.
    pub fn database_name(&self) -> Option<&str> {
        self.db.as_ref().map(|d| d.name.as_str())
    }

    /// Whether the server task is still running (it has not panicked or stopped).
    pub fn is_running(&self) -> bool {
        !self.server.is_finished()
    }

    /// Stops the server gracefully and starts a new one on the same database and config.
    pub async fn restart(self) -> TestApp {
        let TestApp {
            dir, server, stop, db, ..
        } = self;
        let _ = stop.send(());
        server.await.unwrap();
        spawn_on_database(dir, "127.0.0.1:0", db).await
    }
}

/// Fetches until `done` holds or `timeout` passes, 25 ms apart; answers the last value
/// fetched, for the caller to assert on (background work lands a moment after it is seen).
pub async fn poll<T, F, Fut>(timeout: std::time::Duration, mut fetch: F, done: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let value = fetch().await;
        if done(&value) || tokio::time::Instant::now() >= deadline {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
