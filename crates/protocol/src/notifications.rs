//! Signing and termination notifications (PROTOCOL.md §3): the envelope WeChat Pay POSTs to
//! the merchant (§3.2) and the papay event encrypted inside it (§3.3).
//!
//! The server seals events with [`seal`] and the client opens them with [`open`], so both
//! sides share one JSON shape and one AEAD use (§1.6); a fixed-vector test pins the bytes.

use serde::{Deserialize, Serialize};

use crate::aead::{AeadError, ApiV3Key};
use crate::contracts::Identity;

pub use crate::aead::ALGORITHM;

/// `event_type` of a signing notification.
pub const EVENT_SIGN: &str = "PAPAY.SIGN";
/// `event_type` of a termination notification.
pub const EVENT_TERMINATE: &str = "PAPAY.TERMINATE";
/// `resource_type` of every notification.
pub const RESOURCE_TYPE: &str = "encrypt-resource";
/// `resource.original_type` (a DECISION, §3.2).
pub const ORIGINAL_TYPE: &str = "papay";
/// `resource.associated_data` (a DECISION, §3.2).
pub const ASSOCIATED_DATA: &str = "papay";
/// `summary` of a signing notification (a DECISION, §3.2).
pub const SUMMARY_SIGN: &str = "签约成功";
/// `summary` of a termination notification (a DECISION, §3.2).
pub const SUMMARY_TERMINATE: &str = "解约成功";

/// The notification body (§3.2). `id` stays the same across retries: deduplicate by it (§3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub resource_type: String,
    pub summary: String,
    pub resource: NotificationResource,
}

/// The encrypted [`PapayEvent`]. Unlike a certificate's `EncryptedResource` it names its
/// `original_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationResource {
    pub original_type: String,
    pub algorithm: String,
    pub ciphertext: String,
    pub associated_data: String,
    pub nonce: String,
}

/// The decrypted resource (§3.3): `mchid` + `appid` in Common mode, `sp_mchid` + `sp_appid` +
/// `sub_mchid` [+ `sub_appid`] in Institutional mode. Absent values are omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PapayEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The institution's mchid (Institutional mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    #[serde(flatten)]
    pub identity: Identity,
    pub out_contract_code: String,
    pub plan_id: i64,
    pub contract_id: String,
    /// The user under the merchant's (Institutional: the sub-merchant's) AppID.
    pub openid: String,
    /// Institutional mode, when `sub_appid` is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// When the contract was signed or terminated (RFC 3339).
    pub operate_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_expired_time: Option<String>,
    /// `USER` | `MERCHANT` | `PLATFORM`; `PAPAY.TERMINATE` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_termination_mode: Option<String>,
}

/// Why a [`NotificationResource`] could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the resource's algorithm is {0:?}, not {ALGORITHM}")]
    Algorithm(String),
    #[error(transparent)]
    Aead(#[from] AeadError),
    #[error("the decrypted resource is not a papay event: {0}")]
    Json(String),
}

/// Encrypts `event` with the APIv3 key under the 12-character `nonce12`, with
/// [`ORIGINAL_TYPE`] and [`ASSOCIATED_DATA`].
pub fn seal(key: &ApiV3Key, nonce12: &str, event: &PapayEvent) -> Result<NotificationResource, AeadError> {
    // Strings and an integer always serialize; the mapping only satisfies the type.
    let plaintext = serde_json::to_vec(event).map_err(|_| AeadError::Seal)?;
    Ok(NotificationResource {
        original_type: ORIGINAL_TYPE.to_string(),
        algorithm: ALGORITHM.to_string(),
        ciphertext: key.encrypt(nonce12, ASSOCIATED_DATA, &plaintext)?,
        associated_data: ASSOCIATED_DATA.to_string(),
        nonce: nonce12.to_string(),
    })
}

/// Decrypts `r` with the APIv3 key and the resource's own nonce and associated data.
pub fn open(key: &ApiV3Key, r: &NotificationResource) -> Result<PapayEvent, OpenError> {
    if r.algorithm != ALGORITHM {
        return Err(OpenError::Algorithm(r.algorithm.clone()));
    }
    let plaintext = key.decrypt(&r.nonce, &r.associated_data, &r.ciphertext)?;
    serde_json::from_slice(&plaintext).map_err(|e| OpenError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    /// The §1.6 test vector: this event's JSON under `KEY`, nonce `fdasflkja484`, AAD `papay`.
    const VECTOR: &str = "DUcegK33A8MEOgdLtMPWwQdq30XykJ/QVVcJKDYytrm6bhZC1MQ8KcjTPYeYhL8ZRqTo/wxZl1ylttOTJtmkTZ52GYUw12glZxN+TX4LAN0L/hHQpEdo1Cj9Z93AWMzLAlHDjFragXp0QGC2PwMOzUaVdSkYg+oAm3msNS4C5dUWLKX44BQmdifc6H+x8Jb0IN66b9kPX7J8ITL2f4XdsOj7j0+WC2zULKRym61WHJoCLxdo0Qsb3MkIC4EDW0DgtGOxrJDE54jobk5jZq/VSnd/1jpSico/Q/NYFjHmOASa8Aeqwg==";

    fn vector_event() -> PapayEvent {
        PapayEvent {
            mchid: Some("10000100".into()),
            identity: Identity::common("wxcbda96de0b165486"),
            out_contract_code: "100001256".into(),
            plan_id: 123,
            contract_id: "202109211651000001".into(),
            openid: "ouFhd5X9s9WteC3eWRjXV3lea123".into(),
            operate_time: "2021-09-21T16:51:00+08:00".into(),
            ..PapayEvent::default()
        }
    }

    fn institutional_event() -> PapayEvent {
        PapayEvent {
            sp_mchid: Some("10000091".into()),
            identity: Identity::institutional("wxcbda96de0b165486", "10000097", Some("wx0000000000000001".into())),
            out_contract_code: "100001256".into(),
            plan_id: 123,
            contract_id: "Wx15463511252015071056489715".into(),
            openid: "ouFhd5X9s9WteC3eWRjXV3lea123".into(),
            sub_openid: Some("oSubOpenid000000000000000001".into()),
            operate_time: "2015-09-01T10:00:00+08:00".into(),
            contract_expired_time: Some("2016-09-01T10:00:00+08:00".into()),
            contract_termination_mode: Some("USER".into()),
            ..PapayEvent::default()
        }
    }

    #[test]
    fn fixed_vector_pins_json_and_encryption() {
        let key = ApiV3Key::parse(KEY).unwrap();
        let sealed = seal(&key, "fdasflkja484", &vector_event()).unwrap();
        assert_eq!(sealed.ciphertext, VECTOR);
        assert_eq!(open(&key, &sealed).unwrap(), vector_event());
    }

    #[test]
    fn round_trip_institutional() {
        let key = ApiV3Key::generate();
        let sealed = seal(&key, "abcdefghijkl", &institutional_event()).unwrap();
        assert_eq!(
            (sealed.original_type.as_str(), sealed.algorithm.as_str()),
            (ORIGINAL_TYPE, ALGORITHM)
        );
        assert_eq!(sealed.associated_data, ASSOCIATED_DATA);
        assert_eq!(open(&key, &sealed).unwrap(), institutional_event());
        let json = serde_json::to_string(&institutional_event()).unwrap();
        assert!(
            json.starts_with(
                r#"{"sp_mchid":"10000091","sp_appid":"wxcbda96de0b165486","sub_mchid":"10000097","sub_appid""#
            ),
            "{json}"
        );
    }

    #[test]
    fn open_refusals() {
        let key = ApiV3Key::parse(KEY).unwrap();
        let sealed = seal(&key, "fdasflkja484", &vector_event()).unwrap();
        let other = NotificationResource {
            algorithm: "AEAD_SM4_GCM".into(),
            ..sealed.clone()
        };
        assert_eq!(open(&key, &other), Err(OpenError::Algorithm("AEAD_SM4_GCM".into())));
        assert_eq!(
            open(&ApiV3Key::generate(), &sealed),
            Err(OpenError::Aead(AeadError::Open))
        );
        let not_event = NotificationResource {
            ciphertext: key.encrypt("fdasflkja484", "papay", br#"{"mchid":"1"}"#).unwrap(),
            ..sealed
        };
        let err = open(&key, &not_event).unwrap_err();
        assert!(
            matches!(&err, OpenError::Json(m) if m.contains("missing field")),
            "{err}"
        );
        assert_eq!(seal(&key, "short", &vector_event()), Err(AeadError::NonceLength(5)));
    }

    #[test]
    fn envelope_matches_protocol_example() {
        let example = json!({
            "id": "EV-2018022511223320873",
            "create_time": "2015-05-20T13:29:35+08:00",
            "event_type": "PAPAY.SIGN",
            "resource_type": "encrypt-resource",
            "summary": "签约成功",
            "resource": {
                "original_type": "papay",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": VECTOR,
                "associated_data": "papay",
                "nonce": "fdasflkja484"
            }
        });
        let key = ApiV3Key::parse(KEY).unwrap();
        let n = Notification {
            id: "EV-2018022511223320873".into(),
            create_time: "2015-05-20T13:29:35+08:00".into(),
            event_type: EVENT_SIGN.into(),
            resource_type: RESOURCE_TYPE.into(),
            summary: SUMMARY_SIGN.into(),
            resource: seal(&key, "fdasflkja484", &vector_event()).unwrap(),
        };
        let text = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), example);
        assert!(text.starts_with(r#"{"id":"EV-2018022511223320873","create_time":"#));
        assert!(text.contains(r#""resource":{"original_type":"papay","algorithm":"AEAD_AES_256_GCM","ciphertext":"#));
        assert_eq!(serde_json::from_value::<Notification>(example).unwrap(), n);
    }

    #[test]
    fn events_match_protocol_examples() {
        let common = r#"{"mchid":"10000091","out_contract_code":"100001256","plan_id":123,"contract_id":"Wx15463511252015071056489715","appid":"wxcbda96de0b165486","openid":"ouFhd5X9s9WteC3eWRjXV3lea123","contract_termination_mode":"USER","operate_time":"2015-09-01T10:00:00+08:00"}"#;
        let institutional = r#"{"sp_mchid":"10000091","sub_mchid":"10000097","out_contract_code":"100001256","plan_id":123,"contract_id":"Wx15463511252015071056489715","sp_appid":"wxcbda96de0b165486","openid":"ouFhd5X9s9WteC3eWRjXV3lea123","contract_termination_mode":"USER","operate_time":"2015-09-01T10:00:00+08:00"}"#;
        let base = PapayEvent {
            out_contract_code: "100001256".into(),
            plan_id: 123,
            contract_id: "Wx15463511252015071056489715".into(),
            openid: "ouFhd5X9s9WteC3eWRjXV3lea123".into(),
            operate_time: "2015-09-01T10:00:00+08:00".into(),
            contract_termination_mode: Some("USER".into()),
            ..PapayEvent::default()
        };
        let expected_common = PapayEvent {
            mchid: Some("10000091".into()),
            identity: Identity::common("wxcbda96de0b165486"),
            ..base.clone()
        };
        let expected_institutional = PapayEvent {
            sp_mchid: Some("10000091".into()),
            identity: Identity::institutional("wxcbda96de0b165486", "10000097", None),
            ..base
        };
        for (text, expected) in [(common, expected_common), (institutional, expected_institutional)] {
            let parsed: PapayEvent = serde_json::from_str(text).unwrap();
            assert_eq!(parsed, expected);
            let reserialized: Value = serde_json::to_value(&parsed).unwrap();
            assert_eq!(reserialized, serde_json::from_str::<Value>(text).unwrap());
        }
    }
}
