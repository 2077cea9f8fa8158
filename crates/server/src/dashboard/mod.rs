//! HTML of the sandbox dashboard at `/dashboard`: what a developer debugging an integration
//! wants to see of papay's state (merchants, contracts and their history, notification
//! deliveries, recent API requests) and the few buttons that drive it.
//!
//! Rendering only, like [`crate::pages`]: the handlers in `crate::http::dashboard` load what a
//! page shows and call the domain use-cases; these functions turn values into markup, escaped
//! by maud. Nothing here may receive a secret: views take merchants' public parts (ids,
//! serials, certificates' dates) and never the `Merchant`'s keys, so no page can leak one.

mod contracts;
mod layout;
mod login;
mod merchants;
mod notifications;
mod overview;
mod requests;

pub use contracts::{contract_detail, contract_list, ContractDetailView, ContractFilterView, ContractRow};
pub use layout::{Section, Who};
pub use login::{error_page, login_page};
pub use merchants::{merchant_detail, merchant_list, reset_confirm, MerchantCard};
pub use notifications::{notification_detail, notification_list, NotificationFilterView, NotificationRow};
pub use overview::{overview, OverviewView};
pub use requests::{request_list, RequestFilterView};

/// A one-line message after an action, chosen from a fixed set so a link cannot make the
/// dashboard say anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Agreed,
    Declined,
    SignFailed,
    Expired,
    Terminated,
    Resent,
    Paused,
    Resumed,
    ClockAdvanced,
    ClockReset,
    Reset,
}

impl Done {
    const ALL: [Done; 11] = [
        Done::Agreed,
        Done::Declined,
        Done::SignFailed,
        Done::Expired,
        Done::Terminated,
        Done::Resent,
        Done::Paused,
        Done::Resumed,
        Done::ClockAdvanced,
        Done::ClockReset,
        Done::Reset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Done::Agreed => "agreed",
            Done::Declined => "declined",
            Done::SignFailed => "sign-failed",
            Done::Expired => "expired",
            Done::Terminated => "terminated",
            Done::Resent => "resent",
            Done::Paused => "paused",
            Done::Resumed => "resumed",
            Done::ClockAdvanced => "clock-advanced",
            Done::ClockReset => "clock-reset",
            Done::Reset => "reset",
        }
    }

    pub fn parse(s: &str) -> Option<Done> {
        Done::ALL.into_iter().find(|d| d.as_str() == s)
    }

    fn message(self) -> &'static str {
        match self {
            Done::Agreed => "The user agreed. See the state and the transition history below.",
            Done::Declined => "The user declined: the contract is SIGNFAIL.",
            Done::SignFailed => "Signing failed (SIGNFAIL): the last line of the history says why.",
            Done::Expired => "The signing session expired: the contract reads NOTSIGN.",
            Done::Terminated => "The contract is terminated; a PAPAY.TERMINATE notification is queued.",
            Done::Resent => "One more delivery attempt is queued now; reload in a moment to see it.",
            Done::Paused => "Deliveries are paused: nothing is sent until you resume.",
            Done::Resumed => "Deliveries resumed: due notifications go out now.",
            Done::ClockAdvanced => "The merchant's clock moved ahead.",
            Done::ClockReset => "The merchant's clock is back on real time.",
            Done::Reset => {
                "The merchant was reset: its contracts, notifications, faults, clock and journal entries are gone."
            }
        }
    }

    pub(crate) fn notice(self) -> maud::Markup {
        let kind = if self == Done::SignFailed { "bad" } else { "ok" };
        layout::notice(kind, self.message())
    }
}

#[cfg(test)]
mod tests;
