//! The OpenAPI 3.1 document of papay's domestic APIv2 routes (PROTOCOL.md §5).
//!
//! The v2 wire types (`papay_protocol::v2::papay`) are parsed from flat parameter lists, not
//! serde structs, so there is nothing for `ToSchema` to derive from. The parameters are
//! therefore listed here once, in the order of the protocol tables and with the rules the
//! parsers enforce (lengths, character classes, fixed values), and turned into query
//! parameters (`h5entrustweb`) or an `<xml>` object schema (`querycontract`,
//! `deletecontract`) with `xml` names, so tools can serialize the bodies. Answers are always
//! HTTP 200 `text/xml`, success or failure.

use serde_json::{json, Map, Value};

/// Whether a parameter must be sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Yes,
    No,
    /// Required on `/papay/partner/…`, absent from the direct API.
    Partner,
    /// Optional on `/papay/partner/…`, absent from the direct API.
    PartnerOptional,
}

/// One request parameter or answer field.
struct Field {
    name: &'static str,
    need: Need,
    /// A JSON Schema for the value (always a string on the wire).
    schema: fn() -> Value,
    description: &'static str,
    /// What the demo merchant would send, so that the examples reach the business logic.
    example: Option<&'static str>,
}

const fn f(
    name: &'static str,
    need: Need,
    schema: fn() -> Value,
    description: &'static str,
    example: Option<&'static str>,
) -> Field {
    Field {
        name,
        need,
        schema,
        description,
        example,
    }
}

fn ident32() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 32, "pattern": "^[!-~]+$"})
}
fn digits28() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 28, "pattern": "^[0-9]+$"})
}
fn digits128() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[0-9]+$"})
}
fn alnum128() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[0-9A-Za-z]+$"})
}
/// Text XML 1.0 can carry: no control characters but tab, LF and CR (a GET query string could
/// hold them, and the value may be echoed in an answer or notification).
const XML_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]*$";

fn text128() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": XML_TEXT})
}
fn text512() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 512, "pattern": XML_TEXT})
}
fn serial() -> Value {
    json!({"type": "string", "pattern": "^[1-9][0-9]{0,18}$"})
}
/// The scheme is case-insensitive, as in the protocol's rule and RFC 3986.
fn url256() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s]+[^?\\s]*$"})
}
fn version() -> Value {
    json!({"type": "string", "enum": ["1.0"]})
}
fn sign_type() -> Value {
    json!({"type": "string", "enum": ["MD5", "HMAC-SHA256"]})
}
fn sign() -> Value {
    json!({"type": "string", "pattern": "^([0-9A-F]{32}|[0-9A-F]{64})$"})
}
fn timestamp() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{10}$"})
}
fn ip() -> Value {
    json!({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
}
fn text() -> Value {
    json!({"type": "string", "pattern": XML_TEXT})
}
fn code() -> Value {
    json!({"type": "string", "enum": ["SUCCESS", "FAIL"]})
}

const SIGN_DESCRIPTION: &str = "Upper-case hex MD5 (32) or HMAC-SHA256 (64) over the sorted non-empty parameters `k=v&…&key=<v2 key>` (PROTOCOL.md §5.1)";

/// `GET /papay/h5entrustweb` (§5.2), in the order of its table.
#[rustfmt::skip]
const H5ENTRUSTWEB: &[Field] = &[
    f("appid", Need::Yes, ident32, "An AppID bound to mch_id", Some("wx8a3e6b0c5d2f4e71")),
    f("mch_id", Need::Yes, ident32, "The merchant (partner API: the service provider)", Some("1900000100")),
    f("sub_mch_id", Need::Partner, ident32, "The sub-merchant", Some("1900000109")),
    f("sub_appid", Need::PartnerOptional, ident32, "An AppID of the sub-merchant", None),
    f("plan_id", Need::Yes, digits28, "The plan (template) id", Some("12535")),
    f("contract_code", Need::Yes, alnum128, "The merchant's contract number", Some("V2C1001")),
    f("request_serial", Need::Yes, serial, "Orders the merchant's requests: digits, no leading 0, at most 9223372036854775807", Some("1")),
    f("contract_display_account", Need::Yes, text128, "Shown to the user; no 4-byte UTF-8", Some("Zhang San")),
    f("notify_url", Need::Yes, url256, "Where the signing notification goes: http(s), no query string", Some("https://merchant.example/papay/notify")),
    f("version", Need::Yes, version, "Fixed 1.0", Some("1.0")),
    f("sign_type", Need::No, sign_type, "Absent: a 32-hex sign is MD5, a 64-hex one HMAC-SHA256", Some("MD5")),
    f("sign", Need::Yes, sign, SIGN_DESCRIPTION, None),
    f("timestamp", Need::Yes, timestamp, "Unix seconds, within 10 minutes of papay's clock", None),
    f("clientip", Need::Yes, ip, "The user's IP (the signing page checks it)", Some("203.0.113.9")),
    f("deviceid", Need::No, text, "Risk control, kept as sent", None),
    f("mobile", Need::No, text, "Risk control, kept as sent", None),
    f("email", Need::No, text, "Risk control, kept as sent", None),
    f("qq", Need::No, text, "Risk control, kept as sent", None),
    f("openid", Need::No, text, "Risk control, kept as sent", None),
    f("creid", Need::No, text, "Risk control, kept as sent", None),
    f("outerid", Need::No, text, "Risk control, kept as sent", None),
    f("return_appid", Need::No, ident32, "The app the user returns to after signing", None),
];

/// The selector and identity of querycontract (§5.3) and deletecontract (§5.4).
#[rustfmt::skip]
const LOOKUP: &[Field] = &[
    f("appid", Need::Yes, ident32, "An AppID bound to mch_id", Some("wx8a3e6b0c5d2f4e71")),
    f("mch_id", Need::Yes, ident32, "The merchant (partner API: the service provider)", Some("1900000100")),
    f("sub_mch_id", Need::Partner, ident32, "The sub-merchant", Some("1900000109")),
    f("sub_appid", Need::PartnerOptional, ident32, "An AppID of the sub-merchant", None),
    f("contract_id", Need::No, ident32, "Mode a: papay's contract id (not with plan_id + contract_code)", None),
    f("plan_id", Need::No, digits128, "Mode b, with contract_code", Some("12535")),
    f("contract_code", Need::No, text128, "Mode b, with plan_id", Some("V2C1001")),
];

const REMARK: Field = f(
    "contract_termination_remark",
    Need::Yes,
    text512,
    "Why the merchant terminates",
    Some("The user cancelled"),
);
const VERSION: Field = f("version", Need::Yes, version, "Fixed 1.0", Some("1.0"));
const SIGN_TYPE: Field = f("sign_type", Need::No, sign_type, "MD5 when absent", None);
const SIGN: Field = f("sign", Need::Yes, sign, SIGN_DESCRIPTION, None);

/// Fields every answer may carry (§5.6).
#[rustfmt::skip]
const ANSWER_HEAD: &[Field] = &[
    f("return_code", Need::Yes, code, "FAIL: the request could not be read (format, method, parameters, missing sign)", None),
    f("return_msg", Need::No, text, "Why return_code is FAIL (at most 128 characters)", None),
    f("result_code", Need::No, code, "Present when return_code is SUCCESS", None),
];

#[rustfmt::skip]
const H5_ANSWER: &[Field] = &[
    f("result_msg", Need::No, text, "`CODE: detail` when result_code is FAIL (SIGN_ERROR, NO_AUTH, INVALID_REQUEST, RATE_LIMITED, SYSTEMERROR)", None),
    f("redirect_url", Need::No, text, "When result_code is SUCCESS: opens papay's signing page for 10 minutes", None),
];

#[rustfmt::skip]
const ERR_ANSWER: &[Field] = &[
    f("err_code", Need::No, text, "When result_code is FAIL: SIGN_ERROR, NO_AUTH, CONTRACT_NOT_EXIST, INVALID_REQUEST, RATE_LIMITED, SYSTEMERROR", None),
    f("err_code_des", Need::No, text, "The detail of err_code", None),
];

#[rustfmt::skip]
const QUERY_ANSWER: &[Field] = &[
    f("mch_id", Need::No, text, "", None),
    f("appid", Need::No, text, "", None),
    f("sub_mch_id", Need::No, text, "Partner contracts", None),
    f("sub_appid", Need::No, text, "Partner contracts with a sub_appid", None),
    f("sub_openid", Need::No, text, "Partner contracts with a sub_appid", None),
    f("contract_id", Need::No, text, "", None),
    f("plan_id", Need::No, text, "", None),
    f("request_serial", Need::No, text, "", None),
    f("contract_code", Need::No, text, "", None),
    f("contract_display_account", Need::No, text, "", None),
    f("contract_state", Need::No, || json!({"type": "string", "enum": ["0", "1"]}), "0 signed, 1 terminated", None),
    f("contract_signed_time", Need::No, text, "yyyy-MM-dd HH:mm:ss, Beijing time", None),
    f("contract_expired_time", Need::No, text, "yyyy-MM-dd HH:mm:ss, Beijing time", None),
    f("contract_terminated_time", Need::No, text, "State 1", None),
    f("contract_termination_mode", Need::No, text, "State 1: 2 user, 3 merchant API, 4 merchant platform", None),
    f("contract_termination_remark", Need::No, text, "", None),
    f("openid", Need::No, text, "", None),
    f("sign", Need::No, text, "MD5 over the answer with the v2 key (successes only)", None),
];

#[rustfmt::skip]
const DELETE_ANSWER: &[Field] = &[
    f("appid", Need::No, text, "", None),
    f("mch_id", Need::No, text, "", None),
    f("sub_mch_id", Need::No, text, "Partner contracts", None),
    f("contract_id", Need::No, text, "", None),
    f("plan_id", Need::No, text, "", None),
    f("contract_code", Need::No, text, "", None),
    f("sign", Need::No, text, "MD5 over the answer with the v2 key (successes only)", None),
];

fn applies(field: &Field, partner: bool) -> bool {
    partner || !matches!(field.need, Need::Partner | Need::PartnerOptional)
}

fn required(field: &Field) -> bool {
    matches!(field.need, Need::Yes | Need::Partner)
}

fn described(field: &Field) -> Value {
    let mut schema = (field.schema)();
    if !field.description.is_empty() {
        schema["description"] = field.description.into();
    }
    schema
}

/// An `<xml>` object of these fields, each a child element.
fn xml_object<'a>(fields: impl IntoIterator<Item = &'a Field>, description: &str, example: bool) -> Value {
    let mut properties = Map::new();
    let mut needed = Vec::new();
    let mut sample = Map::new();
    for field in fields {
        properties.insert(field.name.into(), described(field));
        if required(field) {
            needed.push(field.name);
        }
        if let Some(e) = field.example {
            sample.insert(field.name.into(), e.into());
        }
    }
    let mut object = json!({
        "type": "object",
        "description": description,
        "xml": {"name": "xml"},
        "properties": properties,
        "required": needed,
    });
    if example {
        object["example"] = Value::Object(sample);
    }
    object
}

/// A querycontract / deletecontract request: its fields, and exactly one lookup mode.
fn lookup_request(partner: bool, delete: bool, description: &str) -> Value {
    let mut object = xml_object(request_fields(partner, delete), description, true);
    object["oneOf"] = json!([
        {"title": "mode a", "required": ["contract_id"], "properties": {"plan_id": false, "contract_code": false}},
        {"title": "mode b", "required": ["plan_id", "contract_code"], "properties": {"contract_id": false}},
    ]);
    object
}

fn xml_answer(schema: &str, description: &str) -> Value {
    json!({
        "200": {
            "description": description,
            "headers": {"Request-ID": {
                "required": true,
                "description": "`<hex id>-0`",
                "schema": {"type": "string", "pattern": "^[0-9A-F]+-[0-9]+$"},
            }},
            "content": {"text/xml": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
        }
    })
}

fn h5entrustweb(partner: bool) -> Value {
    let parameters: Vec<Value> = H5ENTRUSTWEB
        .iter()
        .filter(|field| applies(field, partner))
        .map(|field| {
            let mut p = json!({
                "name": field.name,
                "in": "query",
                "required": required(field),
                "schema": described(field),
            });
            if let Some(e) = field.example {
                p["example"] = e.into();
            }
            p
        })
        .collect();
    json!({"get": {
        "tags": ["h5entrustweb"],
        "operationId": if partner { "h5entrustweb_partner" } else { "h5entrustweb" },
        "summary": if partner { "H5 pre-sign for a sub-merchant (service provider)" } else { "H5 pre-sign (PROTOCOL.md §5.2)" },
        "description": "A signed query string; the answer's redirect_url opens papay's signing page. Answers are never signed.",
        "parameters": parameters,
        "responses": xml_answer("H5EntrustWebAnswer", "Always 200: return_code FAIL for unreadable input, else result_code SUCCESS with redirect_url or FAIL with result_msg"),
    }})
}

fn post(
    operation_id: &str,
    summary: &str,
    description: &str,
    request: &str,
    answer: &str,
    answer_description: &str,
) -> Value {
    let body = json!({"schema": {"$ref": format!("#/components/schemas/{request}")}});
    json!({"post": {
        "tags": [operation_id.trim_end_matches("_partner")],
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "requestBody": {"required": true, "content": {"text/xml": body.clone(), "application/xml": body}},
        "responses": xml_answer(answer, answer_description),
    }})
}

fn request_fields(partner: bool, delete: bool) -> Vec<&'static Field> {
    let mut fields: Vec<&Field> = LOOKUP.iter().filter(|field| applies(field, partner)).collect();
    if delete {
        fields.push(&REMARK);
    }
    fields.extend([&VERSION, &SIGN_TYPE, &SIGN]);
    fields
}

/// The document as served.
pub fn document() -> Value {
    const LOOKUP_NOTE: &str = "Exactly one of contract_id (mode a) or plan_id + contract_code (mode b). MD5-signed unless sign_type says HMAC-SHA256.";
    let query = "Always 200: return_code FAIL for unreadable input, else result_code SUCCESS with the contract or FAIL with err_code";
    let delete = "Always 200: return_code FAIL for unreadable input, else result_code SUCCESS (terminated, mode 3) or FAIL with err_code";
    let mut paths = Map::new();
    paths.insert("/papay/h5entrustweb".into(), h5entrustweb(false));
    paths.insert("/papay/partner/h5entrustweb".into(), h5entrustweb(true));
    for (path, id, summary, request, answer, note) in [
        (
            "/papay/querycontract",
            "querycontract",
            "Query a v2 contract (§5.3)",
            "QueryContract",
            "QueryContractAnswer",
            query,
        ),
        (
            "/papay/partner/querycontract",
            "querycontract_partner",
            "Query a sub-merchant's v2 contract",
            "PartnerQueryContract",
            "QueryContractAnswer",
            query,
        ),
        (
            "/papay/deletecontract",
            "deletecontract",
            "Terminate a v2 contract (§5.4)",
            "DeleteContract",
            "DeleteContractAnswer",
            delete,
        ),
        (
            "/papay/partner/deletecontract",
            "deletecontract_partner",
            "Terminate a sub-merchant's v2 contract",
            "PartnerDeleteContract",
            "DeleteContractAnswer",
            delete,
        ),
    ] {
        paths.insert(path.into(), post(id, summary, LOOKUP_NOTE, request, answer, note));
    }
    let answer = |extra: &[&[Field]], what: &str| {
        xml_object(
            ANSWER_HEAD.iter().chain(extra.iter().flat_map(|f| f.iter())),
            what,
            false,
        )
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "papay WeChat Pay APIv2 (domestic papay)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The domestic v2 papay endpoints as papay answers them (PROTOCOL.md §5): signed with the merchant's v2 key (the service provider's on /papay/partner/…), no certificates, no Authorization header. Every answer is HTTP 200 text/xml, also for the wrong method (REQUIRE_GET_METHOD / REQUIRE_POST_METHOD). Field values travel as strings.",
        },
        "paths": paths,
        "components": {"schemas": {
            "QueryContract": lookup_request(false, false, "querycontract request"),
            "PartnerQueryContract": lookup_request(true, false, "partner querycontract request"),
            "DeleteContract": lookup_request(false, true, "deletecontract request"),
            "PartnerDeleteContract": lookup_request(true, true, "partner deletecontract request"),
            "H5EntrustWebAnswer": answer(&[H5_ANSWER], "h5entrustweb answer (unsigned)"),
            "QueryContractAnswer": answer(&[ERR_ANSWER, QUERY_ANSWER], "querycontract answer"),
            "DeleteContractAnswer": answer(&[ERR_ANSWER, DELETE_ANSWER], "deletecontract answer"),
        }},
    })
}
