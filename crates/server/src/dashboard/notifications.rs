//! Notifications: the list (per merchant, per contract, by status) and one notification with
//! every delivery attempt (time, HTTP status, latency, the first bytes of the receiver's
//! answer, the error), resend, and pause/resume of the merchant's deliveries.

use maud::{html, Markup};

use super::layout::{dash, delivery_badge, empty, fact, http_badge, maybe_when, page, post_button, when, Section, Who};
use super::Done;
use crate::store::NotificationRecord;

/// The list's current filter (as typed) and choices.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilterView {
    pub mchid: Option<String>,
    pub contract_id: Option<String>,
    pub status: Option<String>,
    pub limit: u32,
    pub merchants: Vec<String>,
    /// Whether the chosen merchant's deliveries are paused (`None` without one merchant chosen).
    pub paused: Option<bool>,
}

impl NotificationFilterView {
    fn any(&self) -> bool {
        self.mchid.is_some() || self.contract_id.is_some() || self.status.is_some()
    }
}

/// One notification with its merchant and delivery log.
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub mchid: String,
    pub record: NotificationRecord,
}

fn attempts_table(n: &NotificationRecord) -> Markup {
    html! {
        @if n.log.is_empty() {
            p.muted.small.attempts-none { "No attempt yet." }
        } @else {
            div.tablewrap {
                table.attempts {
                    thead { tr { th { "#" } th { "Sent (real time)" } th { "Merchant time" } th { "HTTP" } th { "Latency" } th { "Outcome" } th { "URL" } th { "Answer (first bytes) / error" } } }
                    tbody {
                        @for a in &n.log {
                            tr.attempt data-outcome=(a.outcome.as_str()) {
                                td.muted { (a.number) }
                                td.small { (when(a.at)) }
                                td.small { (when(a.virtual_at)) }
                                td { @match a.http_status { Some(s) => (http_badge(s)), None => (dash()) } }
                                td.nowrap { (a.latency_ms) " ms" }
                                td { (delivery_badge(a.outcome.as_str())) }
                                td.mono.small.wrapanywhere { (a.url) }
                                td.small {
                                    @if let Some(e) = &a.error { div.error style="color:#a40e26" { (e) } }
                                    @if let Some(h) = a.response_head.as_deref().filter(|h| !h.is_empty()) { code.wrapanywhere { (h) } }
                                    @if a.error.is_none() && a.response_head.as_deref().is_none_or(str::is_empty) { (dash()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One notification as a card: status, attempts, resend (and the exact body, folded).
pub fn notification_block(n: &NotificationRecord, with_link: bool) -> Markup {
    html! {
        div.card.notification data-id=(n.id) {
            div style="display:flex;justify-content:space-between;align-items:flex-start;gap:12px;flex-wrap:wrap;margin:0 0 10px" {
                div {
                    h2 style="margin:0" { (n.event_type) " " (delivery_badge(n.status.as_str())) }
                    div.muted.small {
                        "id " @if with_link { a.mono href={ "/dashboard/notifications/" (n.id) } { (n.id) } } @else { span.mono { (n.id) } }
                        " · created " (when(n.created_at))
                        " · " (n.attempts) " attempt" @if n.attempts != 1 { "s" }
                        @if let (crate::domain::notification::DeliveryStatus::Pending, Some(t)) = (n.status, n.next_due) { " · next " (when(t)) " (merchant time)" }
                    }
                }
                (post_button(&format!("/dashboard/notifications/{}/resend", n.id), "Resend now", "resend", None, &[]))
            }
            (attempts_table(n))
            @if let Some(body) = &n.body {
                details style="margin-top:10px" {
                    summary.small { "Body sent on every attempt" }
                    pre.mono { (body) }
                }
            }
        }
    }
}

fn pause_controls(mchid: &str, paused: bool) -> Markup {
    html! {
        div.card #pause-controls style="display:flex;gap:12px;align-items:center;flex-wrap:wrap" {
            span { "Deliveries of " span.mono { (mchid) } ": " }
            @if paused {
                span.badge.b-amber #deliveries data-paused="true" { "paused" }
                (post_button(&format!("/dashboard/merchants/{mchid}/notifications/resume"), "Resume deliveries", "primary", Some("resume"), &[("back", "notifications")]))
            } @else {
                span.badge.b-green #deliveries data-paused="false" { "delivering" }
                (post_button(&format!("/dashboard/merchants/{mchid}/notifications/pause"), "Pause deliveries", "", Some("pause"), &[("back", "notifications")]))
            }
        }
    }
}

/// The notifications page.
pub fn notification_list(
    who: Option<Who<'_>>,
    f: &NotificationFilterView,
    rows: &[NotificationRow],
    done: Option<Done>,
) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    page(
        "Notifications",
        Section::Notifications,
        who,
        html! {
            h1 { "Notifications" }
            p.lead { "What papay sent (or tried to send) to merchants' notify URLs, newest first. Open one for its exact body." }
            @if let Some(d) = done { (d.notice()) }
            form.filters method="get" action="/dashboard/notifications" #filters {
                div {
                    label for="f-mchid" { "Merchant" }
                    select #f-mchid name="mchid" {
                        option value="" { "All merchants" }
                        @for m in &f.merchants {
                            option value=(m) selected[f.mchid.as_deref() == Some(m.as_str())] { (m) }
                        }
                    }
                }
                div {
                    label for="f-contract" { "contract_id" }
                    input #f-contract type="text" name="contract_id" size="24" value=(value(&f.contract_id));
                }
                div {
                    label for="f-status" { "Status" }
                    select #f-status name="status" {
                        option value="" { "Any status" }
                        @for s in ["PENDING", "DELIVERED", "GAVE_UP"] {
                            option value=(s) selected[f.status.as_deref() == Some(s)] { (s) }
                        }
                    }
                }
                button.btn.primary type="submit" { "Filter" }
                @if f.any() { a.btn href="/dashboard/notifications" { "Clear" } }
            }
            @if let (Some(m), Some(p)) = (&f.mchid, f.paused) { (pause_controls(m, p)) }
            @if rows.is_empty() {
                div.card { (empty(
                    if f.any() { "No notification matches these filters" } else { "No notifications yet" },
                    html! { "papay queues PAPAY.SIGN when a user agrees and PAPAY.TERMINATE when a contract ends. "
                        a href="/dashboard/contracts?state=SIGNING" { "Sign a contract" } " to see one." }
                )) }
            } @else {
                div.tablewrap {
                    table #notifications {
                        thead { tr { th { "Event" } th { "Status" } th { "Merchant" } th { "Contract" } th { "Created" } th { "Attempts" } th { "Last attempt" } th { "Next (merchant time)" } th {} } }
                        tbody {
                            @for r in rows {
                                @let n = &r.record;
                                tr data-id=(n.id) {
                                    td { a href={ "/dashboard/notifications/" (n.id) } { (n.event_type) } }
                                    td { (delivery_badge(n.status.as_str())) }
                                    td.mono { a href={ "/dashboard/merchants/" (r.mchid) } { (r.mchid) } }
                                    td.mono { a href={ "/dashboard/contracts/" (n.contract_id) } { (n.contract_id) } }
                                    td.small { (when(n.created_at)) }
                                    td { (n.attempts) }
                                    td.small {
                                        @match n.log.last() {
                                            Some(a) => {
                                                @match a.http_status { Some(s) => (http_badge(s)), None => (delivery_badge(a.outcome.as_str())) }
                                                " " span.muted { (a.latency_ms) " ms" }
                                                @if let (None, Some(e)) = (a.http_status, &a.error) { div.muted.wrapanywhere { (e) } }
                                            },
                                            None => (dash()),
                                        }
                                    }
                                    td.small { (maybe_when((n.status == crate::domain::notification::DeliveryStatus::Pending).then_some(n.next_due).flatten())) }
                                    td { (post_button(&format!("/dashboard/notifications/{}/resend", n.id), "Resend", "resend", None, &[("back", "notifications")])) }
                                }
                            }
                        }
                    }
                }
                @if u32::try_from(rows.len()).unwrap_or(u32::MAX) >= f.limit {
                    p.more { "Showing the newest " (f.limit) "." }
                }
            }
        },
    )
}

/// One notification's page.
pub fn notification_detail(
    who: Option<Who<'_>>,
    mchid: &str,
    n: &NotificationRecord,
    paused: bool,
    done: Option<Done>,
) -> Markup {
    page(
        &format!("Notification {}", n.id),
        Section::Notifications,
        who,
        html! {
            p.crumbs { a href="/dashboard/notifications" { "Notifications" } " / " span.mono { (n.id) } }
            h1 { (n.event_type) " " span.mono.muted { (n.id) } }
            @if let Some(d) = done { (d.notice()) }
            div.card {
                dl.facts {
                    (fact("Merchant", html! { a.mono href={ "/dashboard/merchants/" (mchid) } { (mchid) } " " @if paused { span.badge.b-amber { "deliveries paused" } } }))
                    (fact("Contract", html! { a.mono href={ "/dashboard/contracts/" (n.contract_id) } { (n.contract_id) } }))
                    (fact("Status", delivery_badge(n.status.as_str())))
                    (fact("Created", when(n.created_at)))
                }
            }
            (notification_block(n, false))
        },
    )
}
