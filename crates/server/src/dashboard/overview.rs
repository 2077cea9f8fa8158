//! The dashboard's home: counts that link to the pages behind them, and the latest contracts.

use maud::{html, Markup};

use super::contracts::ContractRow;
use super::layout::{empty, page, state_badge, when, Section, Who};

/// What the overview counts.
#[derive(Debug, Clone, Default)]
pub struct OverviewView {
    pub merchants: usize,
    pub contracts: u64,
    pub pending_notifications: u64,
    pub paused_merchants: usize,
    /// Requests in the journal, and how many of them failed.
    pub requests: usize,
    pub failed_requests: usize,
    /// The newest few contracts across the merchants the viewer sees.
    pub latest: Vec<ContractRow>,
}

fn stat(href: &str, id: &str, n: impl std::fmt::Display, label: &str) -> Markup {
    html! { a.stat href=(href) id=(id) { b { (n) } span { (label) } } }
}

/// The overview page.
pub fn overview(who: Option<Who<'_>>, v: &OverviewView) -> Markup {
    page(
        "Overview",
        Section::Overview,
        who,
        html! {
            h1 { "Overview" }
            p.lead { "The state of this papay sandbox: who is configured, what was signed, what was sent, and what the API refused." }
            div.stats {
                (stat("/dashboard/merchants", "count-merchants", v.merchants, if v.merchants == 1 { "merchant" } else { "merchants" }))
                (stat("/dashboard/contracts", "count-contracts", v.contracts, if v.contracts == 1 { "contract" } else { "contracts" }))
                (stat("/dashboard/notifications?status=PENDING", "count-pending", v.pending_notifications, "notifications pending"))
                (stat("/dashboard/merchants", "count-paused", v.paused_merchants, "merchants with deliveries paused"))
                (stat("/dashboard/requests", "count-requests", v.requests, "recent API requests"))
                (stat("/dashboard/requests?failures=1", "count-failures", v.failed_requests, "of them failed"))
            }
            h2 { "Latest contracts" }
            @if v.latest.is_empty() {
                div.card { (empty("No contracts yet", html! {
                    "Pre-sign one through the API with your merchant's SDK; it shows up here at once, and you can agree as the user from its page."
                })) }
            } @else {
                div.tablewrap {
                    table #latest {
                        thead { tr { th { "contract_id" } th { "State" } th { "Merchant" } th { "out_contract_code" } th { "Created" } } }
                        tbody {
                            @for r in &v.latest {
                                @let c = &r.contract;
                                tr {
                                    td.mono { a href={ "/dashboard/contracts/" (c.contract_id) } { (c.contract_id) } }
                                    td { (state_badge(c.state.as_str())) }
                                    td.mono { (c.mchid) }
                                    td.mono { (c.out_contract_code) }
                                    td.small { (when(c.created_at)) }
                                }
                            }
                        }
                    }
                }
                p.more { a href="/dashboard/contracts" { "All contracts →" } }
            }
        },
    )
}
