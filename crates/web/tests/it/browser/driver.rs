//! A Chromium session through chromedriver for the browser tests: launching it the way CI does,
//! closing it whatever happens, waiting for pages instead of sleeping, screenshots.
//!
//! `GUANXI_TEST_CHROMEDRIVER` is the chromedriver URL, `GUANXI_TEST_CHROME_BINARY` the browser
//! (default `/usr/bin/chromium`). Screenshots go to a temporary directory that is removed when
//! the story passes and kept (with the page source at the moment of failure) when it fails; set
//! `GUANXI_TEST_SCREENSHOTS=DIR` to keep every screenshot under DIR.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long any one wait may take. Generous: CI machines have two cores and the whole
/// integration suite runs beside the browser.
const TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// The chromedriver to use, or `None` (with a note) when the browser suite is not configured.
/// Under `CI=true` a missing chromedriver fails the test.
pub fn driver_url() -> Option<String> {
    match std::env::var("GUANXI_TEST_CHROMEDRIVER") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().trim_end_matches('/').to_string()),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but GUANXI_TEST_CHROMEDRIVER is not set: the browser suite must run")
        }
        _ => {
            eprintln!(
                "note: GUANXI_TEST_CHROMEDRIVER is not set, browser test skipped \
                 (start `chromedriver --port=9515` and set it to http://127.0.0.1:9515)"
            );
            None
        }
    }
}

/// One browser window on the app under test. Cheap to clone (the session is shared).
#[derive(Clone)]
pub struct Browser {
    pub c: Client,
    pub base: String,
    pub shots: PathBuf,
    shot_no: Arc<AtomicUsize>,
}

fn temp_dir(prefix: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Runs `story` in a fresh headless Chromium whose preferred language is `lang` (`zh-CN` or
/// `en`), then closes the browser. A failing story leaves a screenshot and the page source.
pub async fn run<F, Fut>(driver: &str, base: &str, test: &str, lang: &str, story: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let profile = temp_dir("guanxi-chrome-profile-");
    let keep = std::env::var("GUANXI_TEST_SCREENSHOTS")
        .ok()
        .filter(|d| !d.is_empty());
    let shots = match &keep {
        Some(d) => {
            let p = PathBuf::from(d).join(test);
            std::fs::create_dir_all(&p).expect("create screenshot dir");
            p
        }
        None => temp_dir(&format!("guanxi-shots-{test}-")),
    };
    let b = match Browser::open(driver, base, lang, &profile, shots.clone()).await {
        Ok(b) => b,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&profile);
            let _ = std::fs::remove_dir_all(&shots);
            panic!("cannot start Chromium through chromedriver at {driver}: {e}");
        }
    };
    // The story runs as its own task so that a panic in it still lets us close the browser
    // (a panicking test's runtime would otherwise drop the session without ending it).
    let outcome = tokio::spawn(story(b.clone())).await;
    if outcome.is_err() {
        let _ = b.c.dismiss_alert().await;
        if let Ok(png) = b.c.screenshot().await {
            let _ = std::fs::write(shots.join("failure.png"), png);
        }
        if let Ok(html) = b.c.source().await {
            let _ = std::fs::write(shots.join("failure.html"), html);
        }
        let url = b.c.current_url().await.map(|u| u.to_string());
        eprintln!(
            "browser test {test} failed at {url:?}; screenshots and page source kept in {}",
            shots.display()
        );
    }
    let _ = b.c.clone().close().await;
    let _ = std::fs::remove_dir_all(&profile);
    match outcome {
        Ok(()) => {
            if keep.is_none() {
                let _ = std::fs::remove_dir_all(&shots);
            } else {
                eprintln!("browser test {test}: screenshots in {}", shots.display());
            }
        }
        Err(e) => match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("browser story {test} did not finish: {e}"),
        },
    }
}

impl Browser {
    async fn open(
        driver: &str,
        base: &str,
        lang: &str,
        profile: &std::path::Path,
        shots: PathBuf,
    ) -> Result<Browser, fantoccini::error::NewSessionError> {
        let binary = std::env::var("GUANXI_TEST_CHROME_BINARY")
            .ok()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "/usr/bin/chromium".into());
        let accept = if lang.starts_with("zh") {
            "zh-CN,zh"
        } else {
            "en-US,en"
        };
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--lang={lang}"),
                    "--window-size=1280,900",
                ],
                // --lang alone does not reach Accept-Language in headless mode; the pref does.
                "prefs": {"intl.accept_languages": accept},
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(driver)
            .await?;
        Ok(Browser {
            c,
            base: base.to_string(),
            shots,
            shot_no: Arc::new(AtomicUsize::new(0)),
        })
    }

    // ---------- navigation ----------

    pub async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
        self.wait_ready().await;
    }

    /// Resizes the window, e.g. to a phone's 390 px.
    pub async fn window(&self, width: u32, height: u32) {
        self.c
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize to {width}×{height}: {e}"));
    }

    /// The current URL's path (and query).
    pub async fn path(&self) -> String {
        let u = self.c.current_url().await.expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    pub async fn reload(&self) {
        self.mark_page().await;
        self.c.refresh().await.expect("refresh");
        self.wait_new_page().await;
    }

    /// Marks the current document so that `wait_new_page` can tell when another replaced it.
    pub async fn mark_page(&self) {
        self.c
            .execute("window.__gxOld = true; return null;", vec![])
            .await
            .expect("mark page");
    }

    async fn wait_ready(&self) {
        self.until("the page to load", || async {
            matches!(
                self.c
                    .execute("return document.readyState === 'complete';", vec![])
                    .await,
                Ok(Value::Bool(true))
            )
            .then_some(())
        })
        .await
    }

    /// Waits until a new document (not the marked one) has loaded.
    pub async fn wait_new_page(&self) {
        self.until("the next page to load", || async {
            matches!(
                self.c
                    .execute(
                        "return window.__gxOld === undefined && document.readyState === 'complete';",
                        vec![],
                    )
                    .await,
                Ok(Value::Bool(true))
            )
            .then_some(())
        })
        .await
    }

    /// Clicks something that loads another page (a link, a submit button) and waits for it.
    pub async fn click_to_page(&self, css: &str) {
        self.reveal(css).await;
        self.mark_page().await;
        self.press(css).await;
        self.wait_new_page().await;
    }

    /// Clicks `css`, revealing it again while chromedriver finds it not interactable: a drawer
    /// seen fully open can still be a frame from drawn on a busy machine (it failed once in CI
    /// at load 2 after the drawer had settled). A control that never becomes pressable still
    /// fails, after the usual timeout.
    async fn press(&self, css: &str) {
        let start = Instant::now();
        loop {
            match self.find(css).await.click().await {
                Ok(_) => return,
                Err(CmdError::Standard(e))
                    if e.error == ErrorStatus::ElementNotInteractable
                        && start.elapsed() < TIMEOUT =>
                {
                    tokio::time::sleep(POLL).await;
                    self.reveal(css).await;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Opens what hides a control as a person would before pressing it: the menu (`<details>`)
    /// it is in, or on a phone the navigation drawer.
    pub async fn reveal(&self, css: &str) {
        let script = format!(
            "var el = document.querySelector({css:?}); if (!el) {{ return false; }}\
             for (var d = el.closest('details'); d; d = d.parentElement && d.parentElement.closest('details')) {{ if (!d.open) {{ d.querySelector('summary').click(); }} }}\
             if (el.closest('#sidebar') && el.getBoundingClientRect().right <= 0) {{ document.getElementById('nav-toggle').click(); return true; }}\
             return false;"
        );
        if let Ok(Value::Bool(true)) = self.c.execute(&script, vec![]).await {
            // The drawer slides in over a fifth of a second, longer on a busy machine: wait
            // until it is all in and the link drawn, or a click lands on it half-way (a point
            // left of the page) or before it shows ("not interactable", once under load 8).
            let settled = format!(
                "var el = document.querySelector({css:?}); var d = document.getElementById('sidebar');\
                 if (!el) {{ return false; }} var r = el.getBoundingClientRect();\
                 return r.width > 0 && r.height > 0 && r.left >= 0 && d.getAnimations().length === 0;"
            );
            self.until(&format!("the drawer holding {css} to open"), || async {
                matches!(
                    self.c.execute(&settled, vec![]).await,
                    Ok(Value::Bool(true))
                )
                .then_some(())
            })
            .await;
        }
    }

    /// What stands in the way of people who use a screen reader or see poorly, on the page as
    /// it is: controls without a label (a `<label>`, `aria-label`, `aria-labelledby`, `title`,
    /// or a button's or link's own text) and text whose contrast with what is behind it is
    /// below WCAG AA (4.5:1, or 3:1 for large text). Hidden elements are not checked.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let script = r#"
const out = [];
const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
const named = el => {
  if ((el.getAttribute('aria-label') || '').trim()) return true;
  const by = el.getAttribute('aria-labelledby');
  if (by && by.split(/\s+/).some(id => (document.getElementById(id)?.textContent || '').trim())) return true;
  if ((el.getAttribute('title') || '').trim()) return true;
  if (el.labels && Array.from(el.labels).some(l => l.textContent.trim())) return true;
  if (['BUTTON', 'A', 'SUMMARY'].includes(el.tagName) && el.textContent.trim()) return true;
  return false;
};
document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href], summary').forEach(el => {
  if (!shown(el)) return;
  if (!named(el)) out.push('unlabelled ' + describe(el));
});
const rgb = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(x => parseFloat(x)); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const behind = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
const seen = new Set();
document.querySelectorAll('body *').forEach(el => {
  if (!shown(el) || el.closest('svg') || el.disabled) return;
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) return;
  const s = getComputedStyle(el);
  const fg = rgb(s.color); if (!fg) return;
  const bg = behind(el);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  const ratio = (hi + 0.05) / (lo + 0.05);
  const size = parseFloat(s.fontSize); const bold = parseInt(s.fontWeight, 10) >= 700;
  const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  if (ratio < need) { const key = describe(el) + ' ' + ratio.toFixed(2); if (!seen.has(key)) { seen.add(key); out.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ': ' + describe(el) + ' "' + el.textContent.trim().slice(0, 30) + '"'); } }
});
return out;
"#;
        match self.c.execute(script, vec![]).await {
            Ok(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            other => panic!("accessibility check: {other:?}"),
        }
    }

    /// Types into the global search box, presses Enter and waits for the results page.
    pub async fn search(&self, q: &str) {
        self.fill("#global-search", q).await;
        self.mark_page().await;
        self.find("#global-search")
            .await
            .send_keys(&Key::Enter.to_string())
            .await
            .expect("press enter");
        self.wait_new_page().await;
    }

    // ---------- dialogs ----------

    /// Waits for a JavaScript dialog and returns its text.
    pub async fn alert_text(&self) -> String {
        self.until("a confirm dialog", || async {
            self.c.get_alert_text().await.ok()
        })
        .await
    }

    /// Whether a dialog is open right now.
    pub async fn alert_open(&self) -> bool {
        match self.c.get_alert_text().await {
            Ok(_) => true,
            Err(CmdError::Standard(e)) if e.error == ErrorStatus::NoSuchAlert => false,
            Err(e) => panic!("get alert text: {e}"),
        }
    }

    /// Clicks a button whose form asks for confirmation, answers the dialog and returns its
    /// text; when accepted, waits for the page the form leads to.
    pub async fn click_confirm(&self, css: &str, accept: bool) -> String {
        self.mark_page().await;
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        let text = self.alert_text().await;
        if accept {
            self.c.accept_alert().await.expect("accept dialog");
            self.wait_new_page().await;
        } else {
            self.c.dismiss_alert().await.expect("dismiss dialog");
        }
        text
    }

    // ---------- elements ----------

    pub async fn find(&self, css: &str) -> Element {
        self.until(&format!("element {css}"), || async {
            self.c.find(Locator::Css(css)).await.ok()
        })
        .await
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .c
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
            .is_empty()
    }

    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.c.find_all(Locator::Css(css)).await.expect("find_all")
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The visible texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.all(css).await {
            out.push(e.text().await.expect("text"));
        }
        out
    }

    /// The current value of a form control.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Replaces a form control's value by typing.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        if !text.is_empty() {
            e.send_keys(text)
                .await
                .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        }
    }

    /// Fills the record form's input for field `f.<name>`.
    pub async fn field(&self, name: &str, text: &str) {
        self.fill(&format!("[name=\"f.{name}\"]"), text).await;
    }

    /// The inline error shown under a record form field, if any.
    pub async fn field_error(&self, name: &str) -> Option<String> {
        let css = format!("[data-field=\"f.{name}\"] .field-error");
        match self.all(&css).await.first() {
            Some(e) => Some(e.text().await.expect("text")),
            None => None,
        }
    }

    /// Runs a script and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.c
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Waits until the visible text of `css` contains `want`, and returns that text.
    pub async fn wait_text(&self, css: &str, want: &str) -> String {
        self.until(&format!("{css} to show {want:?}"), || async {
            let e = self.c.find(Locator::Css(css)).await.ok()?;
            let t = e.text().await.ok()?;
            t.contains(want).then_some(t)
        })
        .await
    }

    /// Polls `f` until it gives a value; fails the test with `what` after the timeout.
    pub async fn until<T, F, Fut>(&self, what: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let start = Instant::now();
        loop {
            if let Some(v) = f().await {
                return v;
            }
            if start.elapsed() > TIMEOUT {
                let at = self.c.current_url().await.map(|u| u.to_string());
                panic!("timed out after {TIMEOUT:?} waiting for {what} (page: {at:?})");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    // ---------- screenshots ----------

    /// Scrolls `css` into view and saves a screenshot.
    pub async fn shot_at(&self, css: &str, name: &str) {
        let e = self.find(css).await;
        let arg = serde_json::to_value(&e).expect("element as JSON");
        self.c
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await
            .expect("scroll into view");
        self.shot(name).await;
    }

    /// Saves a screenshot of the window as `NN-name.png`.
    pub async fn shot(&self, name: &str) {
        let n = self.shot_no.fetch_add(1, Ordering::SeqCst) + 1;
        let png = self.c.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        std::fs::write(self.shots.join(format!("{n:02}-{name}.png")), png).expect("write png");
    }
}
