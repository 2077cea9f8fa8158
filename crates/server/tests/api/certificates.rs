//! Platform certificate download (PROTOCOL.md §1.5) on all three paths.

use http::Method;
use papay_protocol::certificates::CertificateList;

use crate::helpers::*;

#[tokio::test]
async fn every_path_lists_the_same_decryptable_certificates() {
    let app = spawn_app().await;
    let client = app.client();
    for path in [
        "/v3/global/certificates",
        "/v3/certificates",
        "/v3/certificates?algorithm_type=RSA",
        "/v3/certificates?algorithm_type=ALL",
        "/hk/v3/certificates",
    ] {
        let certs = client.download_certificates_from(path).await.unwrap();
        assert_eq!(certs.len(), 1, "{path}");
        assert_eq!(certs[0].serial(), app.platform_serial(), "{path}");
        assert_eq!(
            certs[0].pem(),
            papay_protocol::pki::Certificate::from_pem(&keys().platform_cert)
                .unwrap()
                .pem()
        );
    }
    let list: CertificateList = client.get_json("/v3/global/certificates").await.unwrap();
    let item = &list.data[0];
    assert_eq!(item.encrypt_certificate.algorithm, "AEAD_AES_256_GCM");
    assert_eq!(item.encrypt_certificate.associated_data, "certificate");
    assert_eq!(item.encrypt_certificate.nonce.len(), 12);
    assert!(item.effective_time.ends_with("+08:00") && item.expire_time.ends_with("+08:00"));
    assert_eq!(item.effective_time.len(), "2018-06-08T10:34:56+08:00".len());
    let pem = client.decrypt_resource(&item.encrypt_certificate).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn algorithm_type_filters_and_is_validated() {
    let app = spawn_app().await;
    let client = app.client();
    let sm2: CertificateList = client.get_json("/v3/certificates?algorithm_type=SM2").await.unwrap();
    assert!(sm2.data.is_empty());
    let err = client
        .execute(
            client
                .prepare(Method::GET, "/v3/certificates?algorithm_type=DSA", None)
                .unwrap(),
        )
        .await
        .unwrap_err();
    let body = err.api().unwrap();
    assert_eq!((body.status, body.code.as_str()), (400, "PARAM_ERROR"));
    assert_eq!(body.detail.as_ref().unwrap()["field"], "algorithm_type");
    assert!(body.signed);
}
