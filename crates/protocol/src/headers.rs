//! Header names and fixed values of the APIv3 transport (PROTOCOL.md §1.3, §1.4).

pub const AUTHORIZATION: &str = "authorization";
pub const WECHATPAY_TIMESTAMP: &str = "wechatpay-timestamp";
pub const WECHATPAY_NONCE: &str = "wechatpay-nonce";
pub const WECHATPAY_SIGNATURE: &str = "wechatpay-signature";
pub const WECHATPAY_SERIAL: &str = "wechatpay-serial";
pub const WECHATPAY_SIGNATURE_TYPE: &str = "wechatpay-signature-type";
pub const REQUEST_ID: &str = "request-id";

/// The only `Authorization` scheme and `Wechatpay-Signature-Type` WeChat Pay defines.
pub const SIGNATURE_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// How the deliberately wrong `Wechatpay-Signature`s start that WeChat Pay sends to check that
/// merchants verify signatures (§1.4); the merchant must answer them with a non-2xx status.
pub const SIGNATURE_PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// The `Content-Type` every JSON answer carries (the Java SDK refuses anything else).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
