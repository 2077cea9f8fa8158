//! Turns the merchants and plans of a config file into checked domain values: keys read and
//! parsed, certificates matched to keys, ids validated, cross-references resolved.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use figment::value::magic::RelativePathBuf;
use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::{PrivateKey, PublicKey};
use papay_protocol::pki::Certificate;

use super::file::{FileConfig, MerchantConfig, PlanConfig, PlatformKeyConfig};
use super::ConfigError;
use crate::domain::ids::{AppId, Mchid, PlanId, PublicKeyId, Serial};
use crate::domain::merchant::{ApiCredential, KeyOrigin, Merchant, Plan, PlatformKey, SubMerchant, V2Key};

/// Everything a config file asks papay to provision.
#[derive(Debug)]
pub struct Provisioning {
    pub merchants: Vec<MerchantProvision>,
    pub plans: Vec<Plan>,
}

#[derive(Debug)]
pub struct MerchantProvision {
    /// The merchant with its imported platform keys.
    pub merchant: Merchant,
    /// Platform keys papay makes itself (once: later starts reuse the stored ones), each
    /// optionally known by a public-key id.
    pub generate: Vec<Option<PublicKeyId>>,
}

struct Ctx<'a> {
    file: &'a str,
    field: String,
}

impl Ctx<'_> {
    fn err(&self, sub: &str, problem: impl std::fmt::Display) -> ConfigError {
        let field = if sub.is_empty() {
            self.field.clone()
        } else {
            format!("{}.{sub}", self.field)
        };
        ConfigError::new(self.file, field, problem.to_string())
    }

    fn read(&self, sub: &str, path: &RelativePathBuf) -> Result<String, ConfigError> {
        let p: PathBuf = path.relative();
        std::fs::read_to_string(&p).map_err(|e| self.err(sub, format!("cannot read {}: {e}", p.display())))
    }

    /// A secret from exactly one of: inline value, file, environment variable. Never echoed.
    fn secret(
        &self,
        name: &str,
        inline: &Option<String>,
        file: &Option<RelativePathBuf>,
        env: &Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let given = [inline.is_some(), file.is_some(), env.is_some()]
            .iter()
            .filter(|g| **g)
            .count();
        if given > 1 {
            return Err(self.err(name, format!("give only one of {name}, {name}_file, {name}_env")));
        }
        if let Some(v) = inline {
            return Ok(Some(v.clone()));
        }
        if let Some(f) = file {
            return self.read(&format!("{name}_file"), f).map(Some);
        }
        if let Some(var) = env {
            return std::env::var(var)
                .map(Some)
                .map_err(|_| self.err(&format!("{name}_env"), format!("environment variable {var} is not set")));
        }
        Ok(None)
    }
}

pub fn resolve(file: &str, raw: &FileConfig) -> Result<Provisioning, ConfigError> {
    let mut merchants = Vec::new();
    let mut seen = HashSet::new();
    for (i, m) in raw.merchants.iter().enumerate() {
        let ctx = Ctx {
            file,
            field: format!("merchants[{i}]"),
        };
        let provision = merchant(&ctx, m)?;
        if !seen.insert(provision.merchant.mchid.clone()) {
            return Err(ctx.err("mchid", format!("duplicate mchid {}", provision.merchant.mchid)));
        }
        merchants.push(provision);
    }
    let mut plans = Vec::new();
    let mut plan_ids = HashSet::new();
    for (i, p) in raw.plans.iter().enumerate() {
        let ctx = Ctx {
            file,
            field: format!("plans[{i}]"),
        };
        let plan = plan(&ctx, p, &merchants)?;
        if !plan_ids.insert(plan.plan_id) {
            return Err(ctx.err("plan_id", format!("duplicate plan_id {}", plan.plan_id)));
        }
        plans.push(plan);
    }
    Ok(Provisioning { merchants, plans })
}

fn merchant(ctx: &Ctx<'_>, m: &MerchantConfig) -> Result<MerchantProvision, ConfigError> {
    let mchid = Mchid::parse(&m.mchid).map_err(|e| ctx.err("mchid", e))?;
    let api_credentials = api_credentials(ctx, m)?;
    let apiv3_key = ctx
        .secret("apiv3_key", &m.apiv3_key, &m.apiv3_key_file, &m.apiv3_key_env)?
        .map(|k| ApiV3Key::parse(&k))
        .transpose()
        .map_err(|e| ctx.err("apiv3_key", e))?;
    let v2_key = ctx
        .secret("v2_key", &m.v2_key, &m.v2_key_file, &m.v2_key_env)?
        .map(|k| V2Key::parse(&k))
        .transpose()
        .map_err(|e| ctx.err("v2_key", e))?;
    let appids = app_ids(ctx, "appids", &m.appids)?;

    let mut platform_keys = Vec::new();
    let mut generate = Vec::new();
    let mut names = HashSet::new();
    for (j, k) in m.platform_keys.iter().enumerate() {
        let sub = format!("platform_keys[{j}]");
        let public_key_id = k
            .public_key_id
            .as_deref()
            .map(PublicKeyId::parse)
            .transpose()
            .map_err(|e| ctx.err(&format!("{sub}.public_key_id"), e))?;
        if let Some(id) = &public_key_id {
            if !names.insert(id.to_string()) {
                return Err(ctx.err(&format!("{sub}.public_key_id"), format!("duplicate public key id {id}")));
            }
        }
        match platform_key(ctx, &sub, k, public_key_id.clone())? {
            Some(key) => {
                if !names.insert(key.serial.to_string()) {
                    return Err(ctx.err(&sub, format!("duplicate platform certificate serial {}", key.serial)));
                }
                platform_keys.push(key);
            }
            None => generate.push(public_key_id),
        }
    }
    if m.platform_keys.is_empty() {
        generate.push(None);
    }

    let mut sub_merchants = Vec::new();
    let mut subs_seen = HashSet::new();
    for (j, s) in m.sub_merchants.iter().enumerate() {
        let sub = format!("sub_merchants[{j}]");
        let sub_mchid = Mchid::parse(&s.sub_mchid).map_err(|e| ctx.err(&format!("{sub}.sub_mchid"), e))?;
        if !subs_seen.insert(sub_mchid.clone()) {
            return Err(ctx.err(&format!("{sub}.sub_mchid"), format!("duplicate sub_mchid {sub_mchid}")));
        }
        let sub_appids = app_ids(ctx, &format!("{sub}.sub_appids"), &s.sub_appids)?;
        sub_merchants.push(SubMerchant { sub_mchid, sub_appids });
    }

    Ok(MerchantProvision {
        merchant: Merchant {
            name: m.name.clone().unwrap_or_else(|| format!("Merchant {mchid}")),
            mchid,
            apiv3_key,
            v2_key,
            api_credentials,
            platform_keys,
            appids,
            sub_merchants,
            sandbox: Default::default(),
        },
        generate,
    })
}

fn api_credentials(ctx: &Ctx<'_>, m: &MerchantConfig) -> Result<Vec<ApiCredential>, ConfigError> {
    match (&m.api_certificate, &m.api_public_key) {
        (Some(_), Some(_)) => Err(ctx.err("api_public_key", "give api_certificate or api_public_key, not both")),
        (Some(path), None) => {
            let cert = Certificate::from_pem(&ctx.read("api_certificate", path)?)
                .map_err(|e| ctx.err("api_certificate", e))?;
            let credential = ApiCredential::from_certificate(cert).map_err(|e| ctx.err("api_certificate", e))?;
            if let Some(serial) = &m.api_serial {
                if !serial.eq_ignore_ascii_case(credential.serial.as_str()) {
                    return Err(ctx.err(
                        "api_serial",
                        format!("{serial} is not the serial of api_certificate ({})", credential.serial),
                    ));
                }
            }
            Ok(vec![credential])
        }
        (None, Some(path)) => {
            let public_key =
                PublicKey::from_pem(&ctx.read("api_public_key", path)?).map_err(|e| ctx.err("api_public_key", e))?;
            let serial = m
                .api_serial
                .as_deref()
                .ok_or_else(|| ctx.err("api_serial", "required with api_public_key"))?;
            let serial = Serial::parse(serial).map_err(|e| ctx.err("api_serial", e))?;
            Ok(vec![ApiCredential {
                serial,
                public_key,
                certificate: None,
            }])
        }
        (None, None) if m.api_serial.is_some() => Err(ctx.err("api_serial", "needs api_certificate or api_public_key")),
        (None, None) => Ok(Vec::new()),
    }
}

fn platform_key(
    ctx: &Ctx<'_>,
    sub: &str,
    k: &PlatformKeyConfig,
    public_key_id: Option<PublicKeyId>,
) -> Result<Option<PlatformKey>, ConfigError> {
    let key_text = ctx.secret(&format!("{sub}.private_key"), &None, &k.private_key, &k.private_key_env)?;
    let (key_text, cert_path) = match (key_text, &k.certificate) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(ctx.err(&format!("{sub}.certificate"), "required with private_key")),
        (None, Some(_)) => return Err(ctx.err(&format!("{sub}.private_key"), "required with certificate")),
        (Some(key), Some(cert)) => (key, cert),
    };
    let private_key = PrivateKey::from_pem(&key_text).map_err(|e| ctx.err(&format!("{sub}.private_key"), e))?;
    let cert_field = format!("{sub}.certificate");
    let certificate = Certificate::from_pem(&ctx.read(&cert_field, cert_path)?).map_err(|e| ctx.err(&cert_field, e))?;
    PlatformKey::new(private_key, certificate, public_key_id, KeyOrigin::Imported)
        .map(Some)
        .map_err(|e| ctx.err(sub, e))
}

fn app_ids(ctx: &Ctx<'_>, field: &str, raw: &[String]) -> Result<Vec<AppId>, ConfigError> {
    let set: BTreeSet<AppId> = raw
        .iter()
        .enumerate()
        .map(|(i, a)| AppId::parse(a).map_err(|e| ctx.err(&format!("{field}[{i}]"), e)))
        .collect::<Result<_, _>>()?;
    Ok(set.into_iter().collect())
}

fn plan(ctx: &Ctx<'_>, p: &PlanConfig, merchants: &[MerchantProvision]) -> Result<Plan, ConfigError> {
    let plan_id = PlanId::new(p.plan_id).map_err(|e| ctx.err("plan_id", e))?;
    let mchid = Mchid::parse(&p.mchid).map_err(|e| ctx.err("mchid", e))?;
    let owner = merchants
        .iter()
        .find(|m| m.merchant.mchid == mchid)
        .ok_or_else(|| ctx.err("mchid", format!("no merchant {mchid} in this file")))?;
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ctx.err("name", "1 to 64 characters"));
    }
    let mut sub_mchids = Vec::new();
    for (i, s) in p.sub_mchids.iter().enumerate() {
        let sub = Mchid::parse(s).map_err(|e| ctx.err(&format!("sub_mchids[{i}]"), e))?;
        if !owner.merchant.sub_merchants.iter().any(|m| m.sub_mchid == sub) {
            return Err(ctx.err(
                &format!("sub_mchids[{i}]"),
                format!("{sub} is not a sub-merchant of {mchid}"),
            ));
        }
        sub_mchids.push(sub);
    }
    if let Some(url) = &p.termination_notify_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 256 {
            return Err(ctx.err("termination_notify_url", "an http(s) URL of at most 256 characters"));
        }
    }
    if p.contract_validity_days == 0 {
        return Err(ctx.err("contract_validity_days", "must be at least 1"));
    }
    Ok(Plan {
        plan_id,
        mchid,
        name: name.to_string(),
        sub_mchids,
        termination_notify_url: p.termination_notify_url.clone(),
        contract_validity_days: p.contract_validity_days,
    })
}
