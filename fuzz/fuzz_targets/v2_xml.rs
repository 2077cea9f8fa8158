//! Fuzzes the v2 XML codec: `parse` must never panic, and whatever it accepts
//! must survive a `write` → `parse` round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use papay_protocol::v2::xml;

fuzz_target!(|data: &[u8]| {
    let limits = xml::Limits::default();
    if let Ok(params) = xml::parse(data, &limits) {
        let written = xml::write(&params);
        assert_eq!(
            xml::parse(written.as_bytes(), &Default::default()),
            Ok(params),
            "round trip changed the document; written form: {written:?}"
        );
    }
});
