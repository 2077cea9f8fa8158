//! The contracts list (filters: merchant, plan, state, out_contract_code; newest first) and
//! a contract's page: every field, the full transition history, its notifications with every
//! delivery attempt, and the user-side actions its current state allows.

use maud::{html, Markup};
use time::OffsetDateTime;

use super::layout::{dash, empty, fact, maybe, maybe_when, page, post_button, state_badge, when, Section, Who};
use super::notifications::notification_block;
use super::Done;
use crate::domain::contract::{Api, Contract, ContractState, Party};
use crate::store::{NotificationRecord, Transition};

/// The list's current filter, as typed (re-shown in the form), and its choices.
#[derive(Debug, Clone, Default)]
pub struct ContractFilterView {
    pub mchid: Option<String>,
    pub plan_id: Option<String>,
    pub state: Option<String>,
    pub out_contract_code: Option<String>,
    pub limit: u32,
    /// The merchants the viewer may pick.
    pub merchants: Vec<String>,
}

impl ContractFilterView {
    fn any(&self) -> bool {
        self.mchid.is_some() || self.plan_id.is_some() || self.state.is_some() || self.out_contract_code.is_some()
    }
}

/// One contract in the list, observed at its merchant's time.
#[derive(Debug, Clone)]
pub struct ContractRow {
    pub contract: Contract,
}

fn party(p: &Party) -> Markup {
    match p {
        Party::Common { appid } => html! { span.mono { (appid) } },
        Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        } => html! {
            span.mono { (sp_appid) } " " span.muted { "→ sub " } span.mono { (sub_mchid) }
            @if let Some(s) = sub_appid { " " span.mono.muted { "(" (s) ")" } }
        },
    }
}

/// The contracts page.
pub fn contract_list(who: Option<Who<'_>>, filter: &ContractFilterView, rows: &[ContractRow]) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    page(
        "Contracts",
        Section::Contracts,
        who,
        html! {
            h1 { "Contracts" }
            p.lead { "Newest first. Open one to see its history, its notifications and to act as the user." }
            form.filters method="get" action="/dashboard/contracts" #filters {
                div {
                    label for="f-mchid" { "Merchant" }
                    select #f-mchid name="mchid" {
                        option value="" { "All merchants" }
                        @for m in &filter.merchants {
                            option value=(m) selected[filter.mchid.as_deref() == Some(m.as_str())] { (m) }
                        }
                    }
                }
                div {
                    label for="f-plan" { "plan_id" }
                    input #f-plan type="text" name="plan_id" size="10" value=(value(&filter.plan_id));
                }
                div {
                    label for="f-state" { "State" }
                    select #f-state name="state" {
                        option value="" { "Any state" }
                        @for s in ContractState::ALL {
                            option value=(s.as_str()) selected[filter.state.as_deref() == Some(s.as_str())] { (s.as_str()) }
                        }
                    }
                }
                div {
                    label for="f-code" { "out_contract_code" }
                    input #f-code type="text" name="out_contract_code" size="22" value=(value(&filter.out_contract_code));
                }
                button.btn.primary type="submit" { "Filter" }
                @if filter.any() { a.btn href="/dashboard/contracts" { "Clear" } }
            }
            @if rows.is_empty() {
                div.card { (empty(
                    if filter.any() { "No contract matches these filters" } else { "No contracts yet" },
                    if filter.any() { html! { "Clear a filter, or check the merchant and plan." } } else { html! {
                        "Pre-sign one through the API (e.g. " code { "POST /v3/global/papay/contracts/jsapi-pre-entrust-sign" }
                        " or the APIv2 " code { "h5entrustweb" } "); it appears here at once."
                    } }
                )) }
            } @else {
                div.tablewrap {
                    table #contracts {
                        thead { tr { th { "contract_id" } th { "State" } th { "Merchant" } th { "Plan" } th { "out_contract_code" } th { "Channel" } th { "openid" } th { "Created" } th { "Signed" } } }
                        tbody {
                            @for r in rows {
                                @let c = &r.contract;
                                tr data-contract-id=(c.contract_id) {
                                    td.mono { a href={ "/dashboard/contracts/" (c.contract_id) } { (c.contract_id) } }
                                    td { (state_badge(c.state.as_str())) }
                                    td.mono { a href={ "/dashboard/merchants/" (c.mchid) } { (c.mchid) } }
                                    td.mono { (c.plan_id) }
                                    td.mono.wrapanywhere { (c.out_contract_code) }
                                    td { (c.session.channel.as_str()) @if let Api::V2(_) = c.api { " " span.badge.b-grey { "v2" } } }
                                    td.mono.wrapanywhere.small { (maybe(c.openid.as_ref().map(|o| o.as_str()))) }
                                    td.small { (when(c.created_at)) }
                                    td.small { (maybe_when(c.signed_time)) }
                                }
                            }
                        }
                    }
                }
                @if u32::try_from(rows.len()).unwrap_or(u32::MAX) >= filter.limit {
                    p.more { "Showing the newest " (filter.limit) ". Narrow the filters to find older ones." }
                }
            }
        },
    )
}

/// What a contract's page shows.
#[derive(Debug, Clone)]
pub struct ContractDetailView<'a> {
    /// As observed at `now`.
    pub contract: &'a Contract,
    pub merchant_name: &'a str,
    pub plan_name: Option<&'a str>,
    /// The merchant's time now.
    pub now: OffsetDateTime,
    pub history: &'a [Transition],
    /// With their delivery logs, newest first.
    pub notifications: &'a [NotificationRecord],
    pub done: Option<Done>,
}

fn actions(c: &Contract, now: OffsetDateTime) -> Markup {
    let id = c.contract_id.as_str();
    let session = c.session.token.as_str();
    if c.session_live(now) {
        return html! {
            p.muted { "The signing session is open until " (when(c.session.expires_at)) ". Act as the WeChat user:" }
            div.actions #user-actions {
                form method="post" action={ "/dashboard/contracts/" (id) "/agree" } {
                    div.field {
                        label for="openid" { "openid" }
                        input #openid type="text" name="openid" size="30"
                            value=(c.openid.as_ref().map(|o| o.as_str()).unwrap_or_default())
                            placeholder="the WeChat user who agrees" required[c.openid.is_none()];
                    }
                    button.btn.primary type="submit" id="agree" { "Agree" }
                }
                (post_button(&format!("/dashboard/contracts/{id}/decline"), "Decline", "", Some("decline"), &[]))
                (post_button(&format!("/dashboard/contracts/{id}/expire"), "Expire session", "", Some("expire"), &[]))
                a.btn href={ "/global/papay/contracts/login?os_session_id=" (session) } target="_blank" rel="noopener"
                    title="The user's signing page; opening it moves the contract to SIGNING, as the user opening the link would" { "Open the signing page ↗" }
            }
            p.muted.small style="margin:8px 0 0" { "Agreeing as another openid than the pre-sign's ends in SIGNFAIL, as WeChat's risk check would." }
        };
    }
    match c.state {
        ContractState::Signed => html! {
            p.muted { "The contract is signed. End it as the user (in the WeChat wallet) or as WeChat Pay's merchant platform:" }
            form.actions #terminate-form method="post" action={ "/dashboard/contracts/" (id) "/terminate" } {
                div.field {
                    label for="note" { "Note (optional)" }
                    input #note type="text" name="note" size="30" placeholder="why it ends";
                }
                button.btn.danger type="submit" name="as" value="USER" id="terminate-user" { "Terminate as user" }
                button.btn.danger type="submit" name="as" value="PLATFORM" id="terminate-platform" { "Terminate as platform" }
            }
        },
        ContractState::NotSign | ContractState::Signing => html! {
            p.muted #no-actions { "The signing session ended at " (when(c.session.expires_at)) ". Pre-sign the same out_contract_code again for a new one." }
        },
        _ => html! { p.muted #no-actions { "Nothing to do in state " (c.state.as_str()) "." } },
    }
}

/// A contract's page.
pub fn contract_detail(who: Option<Who<'_>>, v: &ContractDetailView<'_>) -> Markup {
    let c = v.contract;
    page(
        &format!("Contract {}", c.contract_id),
        Section::Contracts,
        who,
        html! {
            p.crumbs { a href="/dashboard/contracts" { "Contracts" } " / " span.mono { (c.contract_id) } }
            h1 { "Contract " span.mono { (c.contract_id) } " " span #state { (state_badge(c.state.as_str())) } }
            p.lead { (v.merchant_name) " · " span.mono { (c.out_contract_code) } }
            @if let Some(d) = v.done { (d.notice()) }
            div.card {
                h2 { "Actions" }
                (actions(c, v.now))
            }
            div.grid {
                div.card {
                    h2 { "Contract" }
                    dl.facts #fields {
                        (fact("contract_id", html! { span.mono { (c.contract_id) } }))
                        (fact("State", state_badge(c.state.as_str())))
                        (fact("Merchant", html! { a.mono href={ "/dashboard/merchants/" (c.mchid) } { (c.mchid) } " " (v.merchant_name) }))
                        (fact("Identity", party(&c.party)))
                        (fact("Plan", html! { span.mono { (c.plan_id) } @if let Some(n) = v.plan_name { " " (n) } }))
                        (fact("out_contract_code", html! { span.mono { (c.out_contract_code) } }))
                        (fact("user_display_name", maybe(c.user_display_name.as_ref().map(|d| d.as_str()))))
                        (fact("openid", html! { span.mono { (maybe(c.openid.as_ref().map(|o| o.as_str()))) } }))
                        (fact("success_notify_url", html! { span.mono { (c.success_notify_url) } }))
                        (fact("Created", when(c.created_at)))
                        (fact("Signed", maybe_when(c.signed_time)))
                        (fact("Expires", maybe_when(c.expired_time)))
                        (fact("Terminated", maybe_when(c.terminated_time)))
                        (fact("Termination mode", maybe(c.termination_mode.map(|m| m.as_str()))))
                        (fact("Termination note", maybe(c.termination_note.as_ref().map(|n| n.as_str()))))
                    }
                }
                div.card {
                    h2 { "Signing session" }
                    dl.facts #session {
                        (fact("API", match c.api {
                            Api::V3 => html! { "APIv3 (Global)" },
                            Api::V2(t) => html! { "APIv2 h5entrustweb · request_serial " span.mono { (t.request_serial) } " · " (t.sign_type.as_str()) },
                        }))
                        (fact("Channel", html! { (c.session.channel.as_str()) }))
                        (fact("session_id", html! { span.mono.wrapanywhere { (c.session.token) } }))
                        (fact("Session expires", html! {
                            (when(c.session.expires_at)) " "
                            @if c.session_live(v.now) { span.badge.b-blue { "open" } } @else { span.badge.b-grey { "closed" } }
                        }))
                        (fact("user_client_ip", maybe(c.session.user_client_ip.as_ref().map(|i| i.as_str()))))
                        (fact("return_url", html! { span.mono { (maybe(c.session.return_url.as_ref().map(|u| u.as_str()))) } }))
                        (fact("return_appid", maybe(c.session.return_appid.as_ref().map(|a| a.as_str()))))
                        (fact("Merchant time now", when(v.now)))
                    }
                }
            }
            h2 { "History" }
            @if v.history.is_empty() {
                div.card { (empty("No transitions recorded", html! { "Every change of state is recorded here as it happens." })) }
            } @else {
                div.tablewrap {
                    table #history {
                        thead { tr { th { "#" } th { "When (merchant time)" } th { "Event" } th { "From" } th { "To" } } }
                        tbody {
                            @for (i, t) in v.history.iter().enumerate() {
                                tr {
                                    td.muted { (i + 1) }
                                    td { (when(t.at)) }
                                    td.mono { (t.event) }
                                    td { @match t.from { Some(f) => (state_badge(f.as_str())), None => (dash()) } }
                                    td { (state_badge(t.to.as_str())) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Notifications" }
            @if v.notifications.is_empty() {
                div.card #no-notifications { (empty("No notifications", html! {
                    "papay sends PAPAY.SIGN when the user agrees and PAPAY.TERMINATE when the contract ends."
                })) }
            } @else {
                @for n in v.notifications { (notification_block(n, true)) }
            }
        },
    )
}
