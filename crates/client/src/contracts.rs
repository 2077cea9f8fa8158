//! Typed methods for the eight Global papay contract endpoints (PROTOCOL.md §2).

use papay_protocol::contracts::{
    Contract, Identity, PresignRequest, SessionId, ShowCodeUrl, SignUrl, TerminateRequest,
};

use crate::{Client, Error};

const BASE: &str = "/v3/global/papay/contracts";

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn identity_query(identity: &Identity, plan_id: Option<i64>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("appid", &identity.appid),
        ("sub_mchid", &identity.sub_mchid),
        ("sp_appid", &identity.sp_appid),
        ("sub_appid", &identity.sub_appid),
    ] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    if let Some(p) = plan_id {
        q.append_pair("plan_id", &p.to_string());
    }
    q.finish()
}

impl Client {
    /// Mini Program signing: `session_id` for WeChat's signing mini program.
    pub async fn presign_miniprogram(&self, req: &PresignRequest) -> Result<SessionId, Error> {
        self.post_json(&format!("{BASE}/miniprogram-pre-entrust-sign"), req)
            .await
    }

    /// H5 signing in a mobile browser: `sign_url`.
    pub async fn presign_h5(&self, req: &PresignRequest) -> Result<SignUrl, Error> {
        self.post_json(&format!("{BASE}/h5-pre-entrust-sign"), req).await
    }

    /// JSAPI signing inside WeChat: `sign_url`.
    pub async fn presign_jsapi(&self, req: &PresignRequest) -> Result<SignUrl, Error> {
        self.post_json(&format!("{BASE}/jsapi-pre-entrust-sign"), req).await
    }

    /// PC-web signing by QR code: `show_code_url`.
    pub async fn presign_web(&self, req: &PresignRequest) -> Result<ShowCodeUrl, Error> {
        self.post_json(&format!("{BASE}/web-pre-entrust-sign"), req).await
    }

    /// APP signing through `WXOpenBusinessView`: `session_id`.
    pub async fn presign_app(&self, req: &PresignRequest) -> Result<SessionId, Error> {
        self.post_json(&format!("{BASE}/app-pre-entrust-sign"), req).await
    }

    /// Query by WeChat's `contract_id`.
    pub async fn query_contract(&self, contract_id: &str, identity: &Identity) -> Result<Contract, Error> {
        let q = identity_query(identity, None);
        self.get_json(&format!("{BASE}/{}?{q}", segment(contract_id))).await
    }

    /// Query by the merchant's `out_contract_code` under `plan_id`.
    pub async fn query_contract_by_code(
        &self,
        out_contract_code: &str,
        plan_id: i64,
        identity: &Identity,
    ) -> Result<Contract, Error> {
        let q = identity_query(identity, Some(plan_id));
        self.get_json(&format!("{BASE}/out-contract-code/{}?{q}", segment(out_contract_code)))
            .await
    }

    /// Terminate a contract (`204 No Content`).
    pub async fn terminate_contract(&self, contract_id: &str, req: &TerminateRequest) -> Result<(), Error> {
        let answer = self
            .post_no_content(&format!("{BASE}/{}/terminate", segment(contract_id)), req)
            .await?;
        if answer.status != http::StatusCode::NO_CONTENT || !answer.body.is_empty() {
            return Err(Error::Decode(format!(
                "expected 204 with an empty body, got {}",
                answer.status
            )));
        }
        Ok(())
    }
}
