//! The dashboard's page shell: navigation bar, one inline stylesheet, and the small pieces
//! every page uses (state badges, times, fact lists, empty states, notices).
//!
//! A tool for a developer debugging an integration, so it looks like one: a dark bar, wide
//! tables, monospace ids, coloured state badges. Self-contained (no scripts, fonts or images),
//! so it works offline. Times are shown in Beijing time (UTC+8), the zone WeChat Pay's own
//! fields use, with the RFC 3339 form in the `datetime` attribute and tooltip.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use papay_protocol::time_format::{rfc3339_beijing, v2_beijing};
use time::OffsetDateTime;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Merchants,
    Contracts,
    Notifications,
    Requests,
    /// Login and error pages: nothing highlighted.
    None,
}

const NAV: [(Section, &str, &str); 5] = [
    (Section::Overview, "/dashboard", "Overview"),
    (Section::Merchants, "/dashboard/merchants", "Merchants"),
    (Section::Contracts, "/dashboard/contracts", "Contracts"),
    (Section::Notifications, "/dashboard/notifications", "Notifications"),
    (Section::Requests, "/dashboard/requests", "API requests"),
];

/// The one stylesheet (static, no user data, so pre-escaping it is safe).
const STYLE: &str = r#"
*{box-sizing:border-box}
html{scrollbar-gutter:stable}
body{margin:0;background:#f5f6f8;color:#1f2328;
  font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",Arial,sans-serif}
a{color:#0b66d0;text-decoration:none}
a:hover{text-decoration:underline}
.bar{background:#1b1f24;color:#fff}
.bar .in{max-width:1240px;margin:0 auto;padding:0 20px;display:flex;align-items:center;gap:24px;min-height:52px;flex-wrap:wrap}
.brand{font-weight:600;font-size:15px;color:#fff;white-space:nowrap}
.brand small{font-weight:400;color:#9aa4af;margin-left:6px}
.nav{display:flex;gap:4px;flex-wrap:wrap;flex:1}
.nav a{color:#c9d1d9;padding:6px 10px;border-radius:6px}
.nav a:hover{background:#2d333b;text-decoration:none;color:#fff}
.nav a.on{background:#07C160;color:#fff}
.who{color:#9aa4af;font-size:13px;display:flex;gap:10px;align-items:center}
.who form{margin:0}
.who button{background:none;border:1px solid #444c56;color:#c9d1d9;border-radius:6px;padding:3px 8px;font:inherit;cursor:pointer}
main{max-width:1240px;margin:0 auto;padding:20px 20px 48px}
h1{font-size:22px;font-weight:600;margin:4px 0 4px}
h2{font-size:16px;font-weight:600;margin:0 0 12px}
.lead{color:#59636e;margin:0 0 18px}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:16px 18px;margin:0 0 16px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;align-items:start}
.grid{margin:0 0 20px}
.grid .card{margin:0}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:0 0 16px}
.stat{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 16px;color:inherit}
.stat:hover{border-color:#07C160;text-decoration:none}
.stat b{display:block;font-size:26px;font-weight:600;line-height:1.2}
.stat span{color:#59636e}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:#59636e;font-size:12px;text-transform:uppercase;letter-spacing:.03em;background:#f6f8fa;white-space:nowrap}
tbody tr:hover{background:#f6f8fa}
.tablewrap{border:1px solid #d8dee4;border-radius:8px;overflow-x:auto;margin:0 0 16px;background:#fff}
.tablewrap table{border:0}
.tablewrap tr:last-child td{border-bottom:0}
.card .tablewrap{margin:0}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.wrapanywhere{overflow-wrap:anywhere;word-break:break-all}
.nowrap{white-space:nowrap}
.muted{color:#6e7781}
.small{font-size:12px}
dl.facts{display:grid;grid-template-columns:minmax(110px,max-content) 1fr;gap:6px 16px;margin:0}
dl.facts dt{color:#59636e}
dl.facts dd{margin:0;overflow-wrap:anywhere;min-width:0}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;line-height:18px;white-space:nowrap;border:1px solid transparent}
.b-green{background:#dafbe1;color:#116329;border-color:#aceebb}
.b-red{background:#ffebe9;color:#a40e26;border-color:#ffcecb}
.b-amber{background:#fff8c5;color:#7d4e00;border-color:#f5e08a}
.b-blue{background:#ddf4ff;color:#0550ae;border-color:#b6e3ff}
.b-grey{background:#eaeef2;color:#424a53;border-color:#d0d7de}
.b-dark{background:#424a53;color:#fff}
form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;margin:0 0 14px}
form.filters label,.field label{display:block;font-size:12px;color:#59636e;margin:0 0 3px}
input[type=text],input[type=password],select{font:inherit;padding:5px 8px;border:1px solid #d0d7de;border-radius:6px;background:#fff;color:inherit;min-height:32px}
input[type=text]:focus,input[type=password]:focus,select:focus{outline:2px solid #07C160;outline-offset:0;border-color:#07C160}
.btn{display:inline-block;font:inherit;font-weight:600;padding:5px 12px;min-height:32px;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;color:#24292f;cursor:pointer;white-space:nowrap}
.btn:hover{background:#eef1f4;text-decoration:none}
.btn.primary{background:#07C160;border-color:#06AD56;color:#fff}
.btn.primary:hover{background:#06AD56}
.btn.danger{background:#fff;border-color:#cf222e;color:#cf222e}
.btn.danger:hover{background:#cf222e;color:#fff}
.actions{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end}
.actions form{display:flex;gap:8px;align-items:flex-end;margin:0;flex-wrap:wrap}
.inline{display:inline;margin:0}
.notice{padding:10px 14px;border-radius:8px;margin:0 0 16px;border:1px solid}
.notice.ok{background:#dafbe1;border-color:#aceebb;color:#116329}
.notice.bad{background:#ffebe9;border-color:#ffcecb;color:#a40e26}
.notice.info{background:#ddf4ff;border-color:#b6e3ff;color:#0550ae}
.empty{text-align:center;color:#59636e;padding:28px 16px}
.empty b{display:block;color:#1f2328;font-size:15px;margin-bottom:4px}
pre{margin:0;padding:10px 12px;background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12.5px}
.sig{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.sig h3{font-size:12px;color:#59636e;text-transform:uppercase;margin:0 0 4px;letter-spacing:.03em}
@media (max-width:760px){.sig{grid-template-columns:1fr}dl.facts{grid-template-columns:1fr}}
.crumbs{font-size:13px;margin:0 0 4px}
.more{margin:-6px 0 16px;color:#59636e;font-size:13px}
.nl{color:#afb8c1;user-select:none}
tr.signature:hover{background:none}
"#;

/// Who is looking, for the bar: `None` when papay is open on loopback without a token.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    /// e.g. "admin" or "merchant 1900000100".
    pub label: &'a str,
    /// Whether a sign-out button applies (the token came from the dashboard cookie).
    pub can_sign_out: bool,
}

/// Wraps `body` in the document with the navigation bar.
pub fn page(title: &str, section: Section, who: Option<Who<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                meta name="robots" content="noindex, nofollow";
                meta name="color-scheme" content="light";
                // No favicon request (it would 404 into the request journal).
                link rel="icon" href="data:,";
                title { (title) " · papay dashboard" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.bar {
                    div.in {
                        a.brand href="/dashboard" { "papay" small { "sandbox dashboard" } }
                        nav.nav {
                            @for (s, href, label) in NAV {
                                a.on[s == section] href=(href) { (label) }
                            }
                        }
                        @if let Some(w) = who {
                            div.who {
                                span title="Times are shown in Beijing time, as WeChat Pay's fields use" { "UTC+8" }
                                span #who { (w.label) }
                                @if w.can_sign_out {
                                    form method="post" action="/dashboard/logout" {
                                        button type="submit" { "Sign out" }
                                    }
                                }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A time in Beijing time, e.g. `2026-11-27 20:15:03`, with its RFC 3339 form as tooltip.
pub fn when(t: OffsetDateTime) -> Markup {
    let exact = rfc3339_beijing(t);
    html! { time.nowrap datetime=(exact) title=(exact) { (v2_beijing(t)) } }
}

/// A real-time instant to the millisecond in Beijing time, e.g. `20:15:03.123` after the date.
pub fn when_precise(t: OffsetDateTime) -> Markup {
    let exact = rfc3339_beijing(t);
    let shown = t
        .to_offset(time::macros::offset!(+8))
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]"
        ))
        .unwrap_or_default();
    html! { time.nowrap datetime=(exact) title=(exact) { (shown) } }
}

/// An optional time, or a dash.
pub fn maybe_when(t: Option<OffsetDateTime>) -> Markup {
    match t {
        Some(t) => when(t),
        None => dash(),
    }
}

pub fn dash() -> Markup {
    html! { span.muted { "—" } }
}

/// An optional text, or a dash.
pub fn maybe(text: Option<&str>) -> Markup {
    match text {
        Some(t) => html! { (t) },
        None => dash(),
    }
}

/// A coloured badge; `tone` is one of green, red, amber, blue, grey, dark.
pub fn badge(text: &str, tone: &str) -> Markup {
    html! { span class={ "badge b-" (tone) } { (text) } }
}

/// A contract state's badge.
pub fn state_badge(state: &str) -> Markup {
    let tone = match state {
        "SIGNED" => "green",
        "SIGNING" => "blue",
        "SIGNFAIL" => "red",
        "TERMINATING" => "amber",
        "TERMINATED" => "dark",
        _ => "grey",
    };
    html! { span class={ "badge b-" (tone) } data-state=(state) { (state) } }
}

/// A notification's delivery status, or an attempt's outcome.
pub fn delivery_badge(status: &str) -> Markup {
    let tone = match status {
        "DELIVERED" => "green",
        "PENDING" => "amber",
        "DROPPED" => "amber",
        "GAVE_UP" | "FAILED" => "red",
        _ => "grey",
    };
    html! { span class={ "badge b-" (tone) } data-status=(status) { (status) } }
}

/// An HTTP status, green for 2xx, amber for 4xx, red otherwise.
pub fn http_badge(status: u16) -> Markup {
    let tone = match status {
        200..=299 => "green",
        400..=499 => "amber",
        _ => "red",
    };
    badge(&status.to_string(), tone)
}

/// A definition list row.
pub fn fact(label: &str, value: Markup) -> Markup {
    html! { dt { (label) } dd { (value) } }
}

/// An empty state: what is missing and what to do about it.
pub fn empty(title: &str, what_to_do: Markup) -> Markup {
    html! { div.empty { b { (title) } (what_to_do) } }
}

/// A green, red or blue notice above the content.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { div class={ "notice " (kind) } role="status" id="notice" { (text) } }
}

/// A form that POSTs to `action` with one button (and `fields` as hidden inputs).
pub fn post_button(action: &str, label: &str, class: &str, id: Option<&str>, fields: &[(&str, &str)]) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            @for (name, value) in fields {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" class={ "btn " (class) } id=[id] { (label) }
        }
    }
}
