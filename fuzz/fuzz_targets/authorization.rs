//! Fuzzes the APIv3 `Authorization` header parser: `parse` must never panic,
//! and whatever it accepts must survive `to_header_value` → `parse` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use papay_protocol::authorization::Authorization;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = Authorization::parse(s) {
        let header = a.to_header_value();
        assert_eq!(
            Authorization::parse(&header),
            Ok(a),
            "round trip changed the header; written form: {header:?}"
        );
    }
});
