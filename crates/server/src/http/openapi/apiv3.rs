//! The OpenAPI 3.1 document of papay's WeChat Pay APIv3 routes, generated from the handlers'
//! `#[utoipa::path]` annotations and the `papay_protocol` wire types, so it cannot drift from
//! what the handlers take and answer. What every operation shares (the `Authorization`
//! scheme, the error answers of the transport, the signed-answer headers) is added here once.

use serde_json::{json, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Required, Response, Type};
use utoipa::{Modify, OpenApi};

use crate::http::{certificates, contracts};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "papay WeChat Pay APIv3 (Global papay)",
        description = "The Global papay contract endpoints and the platform-certificate download, as papay answers them (PROTOCOL.md §1, §2). Every request is signed (`Authorization: WECHATPAY2-SHA256-RSA2048 …`); every answer to a request whose merchant is known is signed with the merchant's platform key (`Wechatpay-*` headers). Errors are `{code, message, detail}`. A known path called with another method answers 405 METHOD_NOT_ALLOWED, an unknown one under `/v3/` 404 NOT_FOUND."
    ),
    paths(
        certificates::list,
        contracts::miniprogram, contracts::h5, contracts::jsapi, contracts::web, contracts::app,
        contracts::by_id, contracts::by_code, contracts::terminate,
    ),
    modifiers(&Transport),
    security(("wechatpay" = [])),
    tags(
        (name = "certificates", description = "Platform certificates (§1.5)"),
        (name = "contracts", description = "Global papay contracts (§2)"),
    )
)]
pub struct ApiV3;

/// The document as served. What utoipa 5 cannot express is added to the JSON here: `required`
/// response headers (`Request-ID` on every answer, `Wechatpay-*` on every 2xx), the two
/// identity modes, each pre-sign's own required fields, and request examples.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiV3::openapi()).unwrap_or_default();
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for op in operations {
        let responses = op["responses"].as_object_mut().into_iter().flat_map(|r| r.iter_mut());
        for (status, response) in responses {
            let success = status.starts_with('2');
            for (name, header) in response["headers"].as_object_mut().into_iter().flatten() {
                if name == "Request-ID" || success {
                    header["required"] = Value::Bool(true);
                }
            }
        }
    }
    identity_modes(&mut doc["components"]["schemas"]["Identity"]);
    for path in std::iter::once(CANONICAL_CERTIFICATES).chain(CERTIFICATE_ALIASES.map(|(p, _)| p)) {
        let parameters = doc["paths"][path]["get"]["parameters"].as_array_mut();
        for p in parameters
            .into_iter()
            .flatten()
            .filter(|p| p["name"] == "algorithm_type")
        {
            p["schema"] = json!({"type": "string", "enum": ["RSA", "SM2", "ALL"]});
        }
    }
    for (mode, required) in PRESIGN_REQUIRED {
        let path = format!("/v3/global/papay/contracts/{mode}-pre-entrust-sign");
        let body = &mut doc["paths"][&path]["post"]["requestBody"]["content"]["application/json"];
        body["schema"] = json!({"allOf": [{"$ref": "#/components/schemas/PresignRequest"}, {"required": required}]});
        body["example"] = presign_example();
    }
    let terminate = &mut doc["paths"]["/v3/global/papay/contracts/{contract_id}/terminate"]["post"];
    terminate["requestBody"]["content"]["application/json"]["example"] =
        json!({"appid": DEMO_APPID, "termination_note": "The user cancelled the membership"});
    doc
}

/// The AppID of papay's demo merchant, in the examples (README: `papay serve`).
const DEMO_APPID: &str = "wx8a3e6b0c5d2f4e71";

/// What each pre-sign requires beyond the shared fields (PROTOCOL.md §2.1–2.5; the wire type
/// has them optional because the five share it).
const PRESIGN_REQUIRED: [(&str, &[&str]); 5] = [
    ("miniprogram", &["openid"]),
    ("h5", &["user_display_name"]),
    ("jsapi", &["user_display_name", "openid"]),
    ("web", &["user_display_name"]),
    ("app", &["user_display_name"]),
];

/// A Common-mode body every pre-sign accepts for the demo merchant.
fn presign_example() -> Value {
    json!({
        "appid": DEMO_APPID,
        "plan_id": 12535,
        "out_contract_code": "C20261127001",
        "user_display_name": "Zhang San",
        "success_notify_url": "https://merchant.example/papay/notify",
        "openid": "ouFhd5X9s9WteC3eWRjXV3lea123",
    })
}

/// The identity fields are one of two modes (PROTOCOL.md §2.0), which a struct of four optional
/// fields cannot say: Common (`appid`, none of the others) or Institutional (`sp_appid` +
/// `sub_mchid` [+ `sub_appid`], no `appid`). `false` forbids a property.
fn identity_modes(identity: &mut Value) {
    let property = |name: &str| identity["properties"][name].clone();
    let common = json!({
        "title": "Common mode",
        "type": "object",
        "required": ["appid"],
        "properties": {"appid": property("appid"), "sp_appid": false, "sub_mchid": false, "sub_appid": false},
    });
    let institutional = json!({
        "title": "Institutional mode",
        "type": "object",
        "required": ["sp_appid", "sub_mchid"],
        "properties": {
            "appid": false,
            "sp_appid": property("sp_appid"),
            "sub_mchid": property("sub_mchid"),
            "sub_appid": property("sub_appid"),
        },
    });
    *identity = json!({
        "description": "Who the call speaks for: Common mode or Institutional mode (`sub_mchid` selects it)",
        "oneOf": [common, institutional],
    });
}

/// The SDK aliases of the certificate download (PROTOCOL.md §1.5), same handler.
pub const CERTIFICATE_ALIASES: [(&str, &str); 2] =
    [("/v3/certificates", "list_v3"), ("/hk/v3/certificates", "list_hk_v3")];

const CANONICAL_CERTIFICATES: &str = "/v3/global/certificates";

/// Every operation's shared part: the security scheme, the optional request headers, the
/// errors the transport can answer with anywhere, and the response headers.
struct Transport;

impl Modify for Transport {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = doc.components.as_mut() {
            components.add_security_scheme("wechatpay", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`WECHATPAY2-SHA256-RSA2048 mchid=\"…\",nonce_str=\"…\",timestamp=\"…\",serial_no=\"…\",signature=\"…\"` (keys in any order): `signature` is Base64 RSASSA-PKCS1-v1_5/SHA-256 with the merchant API private key over `METHOD\\nPATH?QUERY\\ntimestamp\\nnonce_str\\nbody\\n` (PROTOCOL.md §1.3); `serial_no` names the merchant API certificate, `timestamp` is within 5 minutes.",
            ))));
        }
        if let Some(item) = doc.paths.paths.get_mut(CANONICAL_CERTIFICATES) {
            if let Some(op) = item.get.as_mut() {
                op.operation_id = Some("list_certificates".into());
            }
            let canonical = item.clone();
            for (alias, id) in CERTIFICATE_ALIASES {
                let mut copy = canonical.clone();
                if let Some(op) = copy.get.as_mut() {
                    op.operation_id = Some(id.into());
                    op.summary = Some(format!("Download the platform certificates ({alias} alias)"));
                }
                doc.paths.paths.insert(alias.to_string(), copy);
            }
        }
        for item in doc.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                shared(op);
            }
        }
    }
}

fn shared(op: &mut Operation) {
    let parameters = op.parameters.get_or_insert_with(Vec::new);
    for (name, description) in [
        (
            "Accept-Language",
            "`en`, `zh-CN`, `zh-HK` or `zh-TW`: the language of an error's `message` (default zh-CN)",
        ),
        (
            "Wechatpay-Serial",
            "The platform certificate serial or `PUB_KEY_ID_…` the caller verifies with; papay signs the answer with that key when it holds it, else with the newest",
        ),
    ] {
        parameters.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
    let responses = &mut op.responses.responses;
    super::add_error_answers(
        responses,
        &[
            ("400", "PARAM_ERROR: a field is missing, malformed or out of range (`detail` names it), the body is not a JSON object or is over 1 MiB"),
            ("401", "SIGN_ERROR: `Authorization` missing or malformed, unknown merchant or serial, expired certificate, timestamp out of window, replayed nonce, or a signature that does not verify (`detail.sign_information` shows the expected signing string)"),
            ("404", "NOT_FOUND: no such path (e.g. an empty path segment)"),
            ("429", "RATE_LIMITED (a fault injected through the control API)"),
            ("500", "SYSTEMERROR: papay failed (or a fault injected through the control API); retry"),
        ],
    );
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response {
            add_headers(response, status.starts_with('2'));
        }
    }
}

/// `Request-ID` always; the `Wechatpay-*` signature headers whenever the merchant is known,
/// which is always the case for a 2xx.
fn add_headers(response: &mut Response, success: bool) {
    let string = |pattern: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .build()
    };
    response.headers.insert(
        "Request-ID".into(),
        HeaderBuilder::new()
            .schema(string("^[0-9A-F]+-[0-9]+$"))
            .description(Some("`<hex id>-<internal error number>` (0 on success)"))
            .build(),
    );
    let signed = if success {
        "Present: the answer is signed"
    } else {
        "Present when the request named a known merchant (an answer to an unknown mchid or an over-long body is not signed)"
    };
    for (name, what, pattern) in [
        ("Wechatpay-Timestamp", "Unix seconds of the signature", "^[0-9]{10}$"),
        ("Wechatpay-Nonce", "The nonce of the signature", "^[0-9A-Za-z]{1,32}$"),
        (
            "Wechatpay-Signature",
            "Base64 SHA256withRSA by the platform key over `timestamp\\nnonce\\nbody\\n`",
            "^[A-Za-z0-9+/=]+$|^WECHATPAY/SIGNTEST/",
        ),
        (
            "Wechatpay-Serial",
            "The platform certificate serial (or `PUB_KEY_ID_…`) whose key signed",
            "^([0-9A-F]+|PUB_KEY_ID_[0-9]+)$",
        ),
        (
            "Wechatpay-Signature-Type",
            "`WECHATPAY2-SHA256-RSA2048`",
            "^WECHATPAY2-SHA256-RSA2048$",
        ),
    ] {
        response.headers.insert(
            name.into(),
            HeaderBuilder::new()
                .schema(string(pattern))
                .description(Some(format!("{what}. {signed}.")))
                .build(),
        );
    }
}
