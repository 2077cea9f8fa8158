//! Recent API requests (the request journal, newest first): time, request id, method, path,
//! merchant, status, error code, latency; filter by merchant and "failures only". A rejected
//! signature shows the string papay expected to be signed beside what the request carried,
//! which is usually all it takes to spot the newline, the query string or the body byte that
//! differs.

use maud::{html, Markup};

use super::layout::{badge, dash, empty, http_badge, page, when_precise, Section, Who};
use crate::observe::JournalEntry;

/// The journal page's filter as typed, and its choices.
#[derive(Debug, Clone, Default)]
pub struct RequestFilterView {
    pub mchid: Option<String>,
    pub failures_only: bool,
    pub limit: usize,
    pub merchants: Vec<String>,
}

/// Text with each line end shown as a faint `\n`, so line breaks (and their absence) are
/// visible in signing strings.
fn with_line_ends(text: &str) -> Markup {
    html! {
        @for (i, line) in text.split('\n').enumerate() {
            @if i > 0 { span.nl { "\\n" } "\n" }
            (line)
        }
    }
}

/// The carried `Authorization` (or v2 `sign`) with one `key="value"` per line, for reading
/// only: the breaks are not part of what was sent.
fn field_per_line(text: &str) -> String {
    text.replace("\",", "\",\n    ")
        .replacen("RSA2048 ", "RSA2048\n    ", 1)
}

fn family_badge(family: &str) -> Markup {
    let tone = match family {
        "APIv3" => "blue",
        "APIv2" => "dark",
        _ => "grey",
    };
    badge(family, tone)
}

/// The request journal page.
pub fn request_list(who: Option<Who<'_>>, f: &RequestFilterView, entries: &[std::sync::Arc<JournalEntry>]) -> Markup {
    page(
        "API requests",
        Section::Requests,
        who,
        html! {
            h1 { "Recent API requests" }
            p.lead { "The last requests this papay instance answered (kept in memory, newest first; the dashboard's own are left out). Failed signatures show what papay expected to be signed." }
            form.filters method="get" action="/dashboard/requests" #filters {
                div {
                    label for="f-mchid" { "Merchant" }
                    select #f-mchid name="mchid" {
                        option value="" { "All merchants" }
                        @for m in &f.merchants {
                            option value=(m) selected[f.mchid.as_deref() == Some(m.as_str())] { (m) }
                        }
                    }
                }
                div style="align-self:center;padding-top:16px" {
                    label.nowrap style="font-size:14px;color:inherit" {
                        input #f-failures type="checkbox" name="failures" value="1" checked[f.failures_only];
                        " Failures only"
                    }
                }
                button.btn.primary type="submit" { "Filter" }
                @if f.mchid.is_some() || f.failures_only { a.btn href="/dashboard/requests" { "Clear" } }
            }
            @if entries.is_empty() {
                div.card { (empty(
                    if f.failures_only { "No failed requests" } else { "No requests yet" },
                    html! { "Call papay's APIv3 or APIv2 endpoints with your SDK; each call appears here with its status and, when a signature is refused, the string papay expected." }
                )) }
            } @else {
                div.tablewrap {
                    table #requests {
                        thead { tr { th { "Time (UTC+8)" } th { "API" } th { "Method" } th { "Path" } th { "Merchant" } th { "Status" } th { "Error" } th { "Latency" } } }
                        tbody {
                            @for e in entries {
                                tr.request data-status=(e.status) data-code=(e.code.unwrap_or("")) {
                                    td.small { (when_precise(e.at)) }
                                    td { (family_badge(e.family.as_str())) }
                                    td.mono { (e.method) }
                                    td {
                                        div.mono.small.wrapanywhere { (e.target) }
                                        div.muted.small.mono title="Request-ID" { (e.request_id) }
                                    }
                                    td.mono { @match &e.mchid { Some(m) => (m), None => (dash()) } }
                                    td { (http_badge(e.status)) }
                                    td.mono.small { @match e.code { Some(c) => span style="color:#a40e26;font-weight:600" { (c) }, None => (dash()) } }
                                    td.nowrap { (format!("{:.1}", e.latency.as_secs_f64() * 1000.0)) " ms" }
                                }
                                @if let Some(sig) = &e.signature {
                                    tr.signature {
                                        td colspan="8" style="background:#fffbf0" {
                                            p style="margin:0 0 8px" { b { "Signature refused: " } (sig.reason) }
                                            div.sig {
                                                div { h3 { "papay expected this to be signed" } pre.mono.expected { (with_line_ends(&sig.expected)) } }
                                                div { h3 { "the request carried" } pre.mono.carried { (field_per_line(&sig.carried)) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if entries.len() >= f.limit {
                    p.more { "Showing the newest " (f.limit) "." }
                }
            }
        },
    )
}
