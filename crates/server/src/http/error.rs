//! The one place where errors become wire answers: `{code, message[, detail]}` with the
//! HTTP status PROTOCOL.md §1.7 gives each code, in the language `Accept-Language` asked for.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use papay_protocol::error_body::{ErrorBody, SignInformation};
use serde_json::{json, Value};

use super::lang::{current_lang, Lang};
use crate::domain::error::ContractError;
use crate::store::StoreError;

/// Why a request's signature was not accepted; each is a 401 `SIGN_ERROR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignFailure {
    /// Header missing, unparsable, duplicated or missing key; carries the parser's reason.
    Malformed(String),
    WrongScheme(String),
    TimestampOutOfWindow,
    UnknownMerchant,
    NoApiV3Key,
    NoCertificate,
    UnknownSerial,
    CertificateExpired,
    ReplayedNonce,
    BadSignature(SignInformation),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    Sign(SignFailure),
    /// 400 `PARAM_ERROR` with a message saying what is wrong and, where known, the field.
    Param {
        message: String,
        detail: Option<Value>,
    },
    /// 403 `NO_AUTH`: well-formed but not permitted (plan, sub-merchant).
    NoAuth(String),
    /// 403 `CONTRACT_EXISTED`.
    ContractExisted,
    /// 403 `CONTRACT_NOT_EXIST`.
    ContractNotExist,
    /// 404 `NOT_FOUND`: no such path.
    NotFound,
    /// 405 `METHOD_NOT_ALLOWED`: the path exists, the method does not.
    MethodNotAllowed,
    /// 500 `SYSTEMERROR`: papay itself failed; the cause is logged, never sent.
    System,
    /// 429 `RATE_LIMITED` (injected through the control API).
    RateLimited,
}

/// The internal error number carried after the last `-` of the `Request-ID` header.
#[derive(Debug, Clone, Copy)]
pub struct ErrorNumber(pub u32);

impl ApiError {
    pub fn param(message: impl Into<String>) -> Self {
        ApiError::Param {
            message: message.into(),
            detail: None,
        }
    }

    pub fn param_field(field: &str, location: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Param {
            detail: Some(json!({"field": field, "location": location, "issue": message})),
            message,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Sign(_) => StatusCode::UNAUTHORIZED,
            ApiError::Param { .. } => StatusCode::BAD_REQUEST,
            ApiError::NoAuth(_) | ApiError::ContractExisted | ApiError::ContractNotExist => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::System => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Sign(_) => "SIGN_ERROR",
            ApiError::Param { .. } => "PARAM_ERROR",
            ApiError::NoAuth(_) => "NO_AUTH",
            ApiError::ContractExisted => "CONTRACT_EXISTED",
            ApiError::ContractNotExist => "CONTRACT_NOT_EXIST",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::System => "SYSTEMERROR",
            ApiError::RateLimited => "RATE_LIMITED",
        }
    }

    fn number(&self) -> u32 {
        268_435_456
            + match self {
                ApiError::Param { .. } => 1,
                ApiError::Sign(_) => 2,
                ApiError::NotFound => 3,
                ApiError::MethodNotAllowed => 4,
                ApiError::System => 5,
                ApiError::NoAuth(_) => 6,
                ApiError::ContractExisted => 7,
                ApiError::ContractNotExist => 8,
                ApiError::RateLimited => 9,
            }
    }

    pub fn body(&self, lang: Lang) -> ErrorBody {
        let (message, detail) = match self {
            ApiError::Sign(f) => (sign_message(f, lang).to_string(), sign_detail(f)),
            ApiError::Param { message, detail } => (message.clone(), detail.clone()),
            ApiError::NoAuth(why) => (format!("{}: {why}", lang.pick("无权限", "No permission")), None),
            ApiError::ContractExisted => (
                lang.pick(
                    "签约协议已存在，请更换out_contract_code后重试",
                    "The contract is already signed; use a new out_contract_code",
                )
                .into(),
                None,
            ),
            ApiError::ContractNotExist => (
                lang.pick(
                    "签约协议不存在,请检查传入的签约协议是否正确",
                    "The contract cannot be found; check the contract or whether it is terminated",
                )
                .into(),
                None,
            ),
            ApiError::NotFound => (
                lang.pick("请求的资源不存在", "The requested resource does not exist")
                    .into(),
                None,
            ),
            ApiError::MethodNotAllowed => (
                lang.pick("不支持的请求方法", "The HTTP method is not supported for this path")
                    .into(),
                None,
            ),
            ApiError::System => (
                lang.pick("系统错误，请稍后重试", "System error, please retry later")
                    .into(),
                None,
            ),
            ApiError::RateLimited => (
                lang.pick("请求频率超过限制，请稍后重试", "Too many requests, please retry later")
                    .into(),
                None,
            ),
        };
        ErrorBody {
            code: self.code().to_string(),
            message,
            detail,
        }
    }
}

impl ApiError {
    /// The one mapping of contract-domain errors to the wire; `location` says where the
    /// offending field travelled (`body`, `query`, `path`).
    pub fn from_contract(e: ContractError, location: &str) -> Self {
        match e {
            ContractError::Field(f) => ApiError::param_field(f.field, location, format!("{} {}", f.field, f.issue)),
            ContractError::NoAuth(why) => ApiError::NoAuth(why),
            ContractError::ContractExisted => ApiError::ContractExisted,
            ContractError::ContractNotExist => ApiError::ContractNotExist,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        ApiError::System
    }
}

impl SignFailure {
    /// The `reason` label of the signature-failure metric.
    pub fn reason(&self) -> &'static str {
        match self {
            SignFailure::Malformed(_) => "malformed_authorization",
            SignFailure::WrongScheme(_) => "wrong_scheme",
            SignFailure::TimestampOutOfWindow => "timestamp_out_of_window",
            SignFailure::UnknownMerchant => "unknown_merchant",
            SignFailure::NoApiV3Key => "no_apiv3_key",
            SignFailure::NoCertificate => "no_certificate",
            SignFailure::UnknownSerial => "unknown_serial",
            SignFailure::CertificateExpired => "certificate_expired",
            SignFailure::ReplayedNonce => "replayed_nonce",
            SignFailure::BadSignature(_) => "bad_signature",
        }
    }

    /// Why, in English words, for the request journal.
    pub fn describe(&self) -> String {
        let message = sign_message(self, Lang::English);
        match self {
            SignFailure::Malformed(issue) | SignFailure::WrongScheme(issue) => format!("{message}: {issue}"),
            _ => message.to_string(),
        }
    }
}

fn sign_message(f: &SignFailure, lang: Lang) -> &'static str {
    match f {
        SignFailure::Malformed(_) => {
            lang.pick("Http头Authorization值格式错误", "The Authorization header is malformed")
        }
        SignFailure::WrongScheme(_) => lang.pick(
            "Http头Authorization认证类型不正确",
            "The authentication type of the Authorization header is not supported",
        ),
        SignFailure::TimestampOutOfWindow => lang.pick(
            "Http头Authorization中的timestamp与发起请求的时间不得超过5分钟",
            "The timestamp in the Authorization header must be within 5 minutes of the request time",
        ),
        SignFailure::UnknownMerchant => {
            lang.pick("商户号不存在", "The mchid in the Authorization header does not exist")
        }
        SignFailure::NoApiV3Key => lang.pick("商户未设置APIv3密钥", "The merchant has not set an APIv3 key"),
        SignFailure::NoCertificate => lang.pick(
            "商户未申请过证书",
            "The merchant has never applied for an API certificate",
        ),
        SignFailure::UnknownSerial => {
            lang.pick("商户证书序列号有误", "The merchant certificate serial number is wrong")
        }
        SignFailure::CertificateExpired => lang.pick("商户证书已过期", "The merchant certificate has expired"),
        SignFailure::ReplayedNonce => lang.pick(
            "Http头Authorization中的nonce_str在5分钟内已使用，请勿重放请求",
            "The nonce_str in the Authorization header was already used within 5 minutes",
        ),
        SignFailure::BadSignature(_) => lang.pick("错误的签名，验签失败", "Signature verification failed"),
    }
}

fn sign_detail(f: &SignFailure) -> Option<Value> {
    match f {
        SignFailure::Malformed(issue) | SignFailure::WrongScheme(issue) => {
            Some(json!({"field": "authorization", "location": "header", "issue": issue}))
        }
        SignFailure::BadSignature(info) => Some(json!({
            "field": "signature",
            "issue": "sign not match",
            "location": "authorization",
            "detail": {"issue": "sign not match"},
            "sign_information": info,
        })),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::System) {
            tracing::error!("answering SYSTEMERROR");
        }
        crate::observe::answer_code(self.code());
        let mut response = (self.status(), Json(self.body(current_lang()))).into_response();
        response.extensions_mut().insert(ErrorNumber(self.number()));
        response
    }
}
