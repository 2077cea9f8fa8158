//! Request fields as the handlers read them: a JSON object body or a query string, each read
//! field by field so that a missing, mistyped or malformed value is refused with a message that
//! names it (never serde's or axum's default text).

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::domain::values::FieldError;

pub struct Input {
    fields: Map<String, Value>,
    /// Query values are all strings; body values carry JSON types.
    from_query: bool,
}

impl Input {
    /// A JSON object body. Anything else is `400 PARAM_ERROR`.
    pub fn body(bytes: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::param_field("body", "body", format!("the request body is not valid JSON: {e}")))?;
        match value {
            Value::Object(fields) => Ok(Input {
                fields,
                from_query: false,
            }),
            _ => Err(ApiError::param_field(
                "body",
                "body",
                "the request body must be a JSON object",
            )),
        }
    }

    /// A query string (`None`: no query). The first of repeated names wins.
    pub fn query(raw: Option<&str>) -> Self {
        let mut fields = Map::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            fields.entry(k.into_owned()).or_insert(Value::String(v.into_owned()));
        }
        Input {
            fields,
            from_query: true,
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|v| !v.is_null())
    }

    pub fn opt_str(&self, name: &'static str) -> Result<Option<&str>, FieldError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(FieldError::new(name, "must be a string")),
        }
    }

    pub fn str(&self, name: &'static str) -> Result<&str, FieldError> {
        self.opt_str(name)?.ok_or_else(|| FieldError::new(name, "is required"))
    }

    /// An integer: a JSON integer in a body, decimal digits in a query.
    pub fn int(&self, name: &'static str) -> Result<i64, FieldError> {
        let wrong = || FieldError::new(name, "must be an integer");
        match self.fields.get(name) {
            None | Some(Value::Null) => Err(FieldError::new(name, "is required")),
            Some(Value::Number(n)) if !self.from_query => n.as_i64().ok_or_else(wrong),
            Some(Value::String(s)) if self.from_query => {
                if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(wrong());
                }
                s.parse().map_err(|_| wrong())
            }
            Some(_) => Err(wrong()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_fields() {
        let i = Input::body(br#"{"a":"x","n":12,"f":1.5,"s":"12","z":null}"#).unwrap();
        assert_eq!(i.str("a").unwrap(), "x");
        assert_eq!(i.int("n").unwrap(), 12);
        assert_eq!(i.int("f").unwrap_err().issue, "must be an integer");
        assert_eq!(i.int("s").unwrap_err().issue, "must be an integer");
        assert_eq!(i.str("n").unwrap_err().issue, "must be a string");
        assert_eq!(i.opt_str("z").unwrap(), None);
        assert_eq!(i.str("missing").unwrap_err().issue, "is required");
        assert!(Input::body(b"[1]").is_err());
        assert!(Input::body(b"{").is_err());
    }

    #[test]
    fn query_fields() {
        let i = Input::query(Some("plan_id=123&appid=wx1&appid=wx2&bad=1a&sp=a%20b+c"));
        assert_eq!(i.int("plan_id").unwrap(), 123);
        assert_eq!(i.str("appid").unwrap(), "wx1");
        assert!(i.int("bad").is_err());
        assert_eq!(i.str("sp").unwrap(), "a b c");
    }
}
