//! A headless Chromium per test: its own `chromedriver` child process on a free port, a
//! fantoccini session with the options below, small page helpers, screenshots and QR decoding.
//!
//! Without `/usr/bin/chromedriver` the tests skip loudly, unless `PAPAY_REQUIRE_BROWSER=1`
//! (set by CI), which turns the skip into a failure.

use std::future::Future;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Note: headless Chromium keeps windows at least 500 px wide, so pages render in a 500×757
/// viewport (the height less Chromium's virtual toolbar), not 420 wide.
const CHROMIUM_ARGS: [&str; 5] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--window-size=420,900",
];
/// How long chromedriver may take to answer `/status`, and to exit once told to.
const DRIVER_TIMEOUT: Duration = Duration::from_secs(15);
/// How long an element may take to appear, and a page to load.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `test` against a fresh browser session and closes the session afterwards, also when
/// `test` panics (the panic is then resumed). Returns without running `test` when chromedriver
/// is not installed and the browser is not required.
pub async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_viewport(Viewport::Phone, test).await;
}

/// The window a test browses in.
#[derive(Debug, Clone, Copy)]
pub enum Viewport {
    /// 390×844, as the signing pages are used.
    Phone,
    /// A laptop screen, as the dashboard is used: `width`×`height` CSS pixels.
    Desktop { width: u32, height: u32 },
}

/// [`with_browser`] in the given viewport.
pub async fn with_viewport<F, Fut>(viewport: Viewport, test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("PAPAY_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "PAPAY_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing: install chromium and chromium-driver"
        );
        // Straight to stderr: the test harness would capture (and hide) `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** skipped: chromium-driver not installed ({CHROMEDRIVER} missing) ***\n"
        );
        return;
    }
    let mut driver = Driver::start();
    driver.wait_until_ready().await;
    let client = driver.connect(viewport).await;
    // The test runs as its own task so that a panic comes back as a value and the session can
    // still be closed before the panic continues.
    let outcome = tokio::spawn(test(Browser(client.clone()))).await;
    let closed = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    closed.expect("closing the browser session");
}

/// A `chromedriver` child process; told to shut down (and killed if it lingers) on drop.
struct Driver {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Driver {
    fn start() -> Driver {
        let log = tempfile::NamedTempFile::new().unwrap();
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        Driver { child, port, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/status` until chromedriver reports ready (bounded by [`DRIVER_TIMEOUT`]).
    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + DRIVER_TIMEOUT;
        loop {
            if let Ok(r) = http.get(format!("{}/status", self.url())).send().await {
                if let Ok(status) = r.json::<serde_json::Value>().await {
                    if status["value"]["ready"] == true {
                        return;
                    }
                }
            }
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited ({exit}) before it was ready; its log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver on port {} did not become ready within {DRIVER_TIMEOUT:?}; its log:\n{}",
                self.port,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn connect(&self, viewport: Viewport) -> Client {
        let options = match viewport {
            // A phone-sized viewport (headless windows cannot be narrower than 500 px).
            Viewport::Phone => serde_json::json!({
                "binary": CHROMIUM,
                "args": CHROMIUM_ARGS,
                "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}},
            }),
            Viewport::Desktop { width, height } => {
                let mut args: Vec<String> = CHROMIUM_ARGS[..4].iter().map(|a| a.to_string()).collect();
                args.push(format!("--window-size={width},{height}"));
                serde_json::json!({ "binary": CHROMIUM, "args": args })
            }
        };
        let capabilities = serde_json::Map::from_iter([("goog:chromeOptions".to_string(), options)]);
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "starting Chromium through chromedriver: {e}; its log:\n{}",
                    self.log_text()
                )
            });
        let timeouts = TimeoutConfiguration::new(Some(PAGE_TIMEOUT), Some(PAGE_TIMEOUT), Some(Duration::ZERO));
        client.update_timeouts(timeouts).await.unwrap();
        client
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Driver {
    /// `/shutdown` makes chromedriver quit any browser it still runs (a plain kill would
    /// orphan Chromium); kill it only if it has not exited in time.
    fn drop(&mut self) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = write!(
                s,
                "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
        }
        let deadline = Instant::now() + DRIVER_TIMEOUT;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One browser session with the helpers the tests need; every lookup waits (bounded).
#[derive(Clone)]
pub struct Browser(Client);

impl Browser {
    pub async fn open(&self, url: &str) {
        self.0.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.0.current_url().await.unwrap().to_string()
    }

    /// The element matching `css`, waiting up to [`PAGE_TIMEOUT`] for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self.0.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no {css} on {} within {PAGE_TIMEOUT:?}: {e}; the page:\n{}",
                self.current_url().await,
                self.0.source().await.unwrap_or_default()
            ),
        }
    }

    /// How many elements match `css` right now (no waiting).
    pub async fn count(&self, css: &str) -> usize {
        self.0.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Whether an element matches `css` right now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        !self.0.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    pub async fn attr(&self, css: &str, name: &str) -> String {
        self.find(css)
            .await
            .attr(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{css} has no {name} attribute"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Saves a PNG of the viewport as `name` in [`screenshot_dir`]; answers the PNG.
    pub async fn screenshot(&self, name: &str) -> Vec<u8> {
        let png = self.0.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), &png).unwrap();
        png
    }
}

impl Browser {
    /// Like [`Browser::screenshot`], but of the whole page: the window grows to the page's
    /// height for the shot, then shrinks back.
    pub async fn screenshot_full(&self, name: &str) -> Vec<u8> {
        let number = |v: serde_json::Value| v.as_f64().unwrap_or_default().ceil() as u32;
        let page = number(
            self.0
                .execute("return document.documentElement.scrollHeight", vec![])
                .await
                .unwrap(),
        );
        let inner = number(self.0.execute("return window.innerHeight", vec![]).await.unwrap());
        let (width, height) = self.0.get_window_size().await.unwrap();
        let chrome = u32::try_from(height).unwrap_or_default().saturating_sub(inner);
        if page > inner {
            self.0
                .set_window_size(u32::try_from(width).unwrap_or(1280), page + chrome)
                .await
                .unwrap();
        }
        let png = self.screenshot(name).await;
        if page > inner {
            self.0
                .set_window_size(
                    u32::try_from(width).unwrap_or(1280),
                    u32::try_from(height).unwrap_or(900),
                )
                .await
                .unwrap();
        }
        png
    }
}

/// `PAPAY_SCREENSHOTS`, else `papay-screenshots/` in `CARGO_TARGET_DIR`, else in the
/// workspace's `target/` (a relative `CARGO_TARGET_DIR` counts from the workspace root).
pub fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PAPAY_SCREENSHOTS") {
        return dir.into();
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), |t| workspace.join(t));
    target.join("papay-screenshots")
}

/// The texts of the QR codes found in a PNG.
pub fn decode_qr(png: &[u8]) -> Vec<String> {
    let luma = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(luma);
    prepared
        .detect_grids()
        .iter()
        .map(|grid| {
            grid.decode()
                .unwrap_or_else(|e| panic!("a QR code was found but not decoded: {e}"))
                .1
        })
        .collect()
}
