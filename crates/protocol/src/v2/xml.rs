//! The flat XML documents of APIv2 (PROTOCOL.md §5.3–5.5):
//! `<xml><name>value</name>…</xml>`.
//!
//! v2 bodies are a single `xml` root whose children are named text fields —
//! nothing else. Because these bodies arrive from the network before anything
//! is authenticated, [`parse`] accepts exactly that shape and refuses the rest
//! with an [`XmlError`] whose message can be returned to the merchant:
//!
//! * any `<!DOCTYPE …>` — there is no other place to declare entities, so this
//!   rules out external entities (XXE) and entity expansion ("billion laughs");
//!   only the five predefined entities and numeric character references are
//!   decoded;
//! * processing instructions (other than a leading `<?xml …?>` declaration),
//!   attributes, nested elements, duplicate field names, text directly in the
//!   root, anything after the root, and characters that XML 1.0 forbids;
//! * input that is not UTF-8 (or declares another encoding), or exceeds
//!   [`Limits`].
//!
//! Otherwise parsing follows XML 1.0 (leniently: whitespace may precede the
//! XML declaration, and `]]>` is accepted in text). Values may be text, CDATA
//! or a mix (comments inside are skipped), line ends are normalised (`\r\n`
//! and a lone `\r` become `\n`), and values are *not* trimmed.
//!
//! [`write()`] emits every value as CDATA, as WeChat Pay does, and escapes what
//! CDATA cannot hold, so that `parse(write(p)) == p` for every value made of
//! XML 1.0 characters.

use std::borrow::Cow;
use std::collections::HashSet;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::Params;

/// Size limits applied by [`parse`] before and while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted document, in bytes.
    pub max_bytes: usize,
    /// Largest accepted number of fields (children of the root).
    pub max_fields: usize,
}

impl Default for Limits {
    /// 64 KiB and 64 fields: far above any v2 papay message (the largest has
    /// about 25 fields of at most 512 characters each).
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024,
            max_fields: 64,
        }
    }
}

/// Why a v2 XML document was refused. The messages are meant for `return_msg`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    /// The body is larger than [`Limits::max_bytes`].
    #[error("XML document is larger than the allowed size")]
    TooLarge,
    /// The body is not valid UTF-8.
    #[error("XML document is not valid UTF-8")]
    NotUtf8,
    /// The XML declaration names an encoding other than UTF-8.
    #[error("XML document declares encoding `{0}`; only UTF-8 is supported")]
    UnsupportedEncoding(String),
    /// The body is empty or only whitespace.
    #[error("XML document is empty")]
    Empty,
    /// The document is not well-formed XML, or not of the flat v2 shape.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The document contains a `<!DOCTYPE …>` (and with it, possibly entity declarations).
    #[error("XML document contains a DOCTYPE declaration, which is not allowed")]
    Doctype,
    /// The document contains a processing instruction `<?…?>` other than the
    /// leading XML declaration.
    #[error("XML document contains a processing instruction, which is not allowed")]
    ProcessingInstruction,
    /// The root element is not `<xml>`.
    #[error("XML root element must be <xml>, found <{0}>")]
    WrongRoot(String),
    /// A field contains an element instead of only text (the field name is given).
    #[error("XML field <{0}> contains a nested element; fields must hold text only")]
    Nested(String),
    /// Two fields have the same name.
    #[error("XML field <{0}> appears more than once")]
    DuplicateElement(String),
    /// Something other than whitespace or comments follows the root element.
    #[error("XML document has content after the closing </xml>")]
    TrailingContent,
    /// The root has more than [`Limits::max_fields`] children.
    #[error("XML document has more fields than allowed")]
    TooManyFields,
}

/// Where the reader is in the document.
enum State {
    /// Before the root element; `started` once anything but whitespace was seen
    /// (after which an XML declaration is no longer allowed).
    Prolog { started: bool },
    /// Inside `<xml>`, between fields.
    Root,
    /// Inside the field `name`, collecting its value.
    Field { name: String, value: String },
    /// After `</xml>`.
    Epilog,
}

/// Parses a flat v2 document `<xml><name>value</name>…</xml>` into its fields,
/// in document order. See the [module docs](self) for what is accepted.
///
/// A field written `<name/>` has the empty value. Never panics, whatever the input.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Params, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    if text.trim_matches(is_xml_space).is_empty() {
        return Err(XmlError::Empty);
    }

    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut params = Params::new();
    let mut seen = HashSet::new();
    let mut state = State::Prolog { started: false };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Malformed(format!("{e} (at byte {})", reader.error_position())))?;
        // Refusals that hold wherever they appear.
        match &event {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            _ => {}
        }
        state = match state {
            State::Prolog { started } => match event {
                Event::Decl(decl) if !started => {
                    check_decl(&decl)?;
                    State::Prolog { started: true }
                }
                Event::Text(t) if is_blank(&t) => State::Prolog { started },
                Event::Comment(_) => State::Prolog { started: true },
                Event::Start(e) => {
                    open_root(&e)?;
                    State::Root
                }
                Event::Empty(e) => {
                    open_root(&e)?;
                    State::Epilog
                }
                Event::Eof => return Err(malformed("the document has no root element")),
                Event::Decl(_) => return Err(misplaced_decl()),
                _ => return Err(malformed("text before the root element <xml>")),
            },
            State::Root => match event {
                Event::Text(t) if is_blank(&t) => State::Root,
                Event::Comment(_) => State::Root,
                Event::Start(_) | Event::Empty(_) if params.len() >= limits.max_fields => {
                    return Err(XmlError::TooManyFields);
                }
                Event::Start(e) => State::Field {
                    name: open_field(&e, &mut seen)?,
                    value: String::new(),
                },
                Event::Empty(e) => {
                    params.push(open_field(&e, &mut seen)?, "");
                    State::Root
                }
                Event::End(_) => State::Epilog,
                Event::Eof => return Err(truncated()),
                Event::Decl(_) => return Err(misplaced_decl()),
                _ => return Err(malformed("text directly inside <xml>, outside any field")),
            },
            State::Field { name, mut value } => match event {
                Event::Text(t) => {
                    push_checked(&mut value, &name, t.xml10_content())?;
                    State::Field { name, value }
                }
                Event::CData(t) => {
                    push_checked(&mut value, &name, t.xml10_content())?;
                    State::Field { name, value }
                }
                Event::GeneralRef(r) => {
                    value.push(resolve_reference(&r, &name)?);
                    State::Field { name, value }
                }
                Event::Comment(_) => State::Field { name, value },
                Event::End(_) => {
                    params.push(name, value);
                    State::Root
                }
                Event::Start(_) | Event::Empty(_) => return Err(XmlError::Nested(name)),
                Event::Eof => return Err(truncated()),
                Event::Decl(_) => return Err(misplaced_decl()),
                // Already refused above; listed so this match stays exhaustive.
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            },
            State::Epilog => match event {
                Event::Text(t) if is_blank(&t) => State::Epilog,
                Event::Comment(_) => State::Epilog,
                Event::Eof => return Ok(params),
                _ => return Err(XmlError::TrailingContent),
            },
        };
    }
}

/// Writes `params` as `<xml><k><![CDATA[v]]></k>…</xml>`, in order, with no
/// declaration and no whitespace between elements.
///
/// The names are written as they are and must be valid XML names (every v2
/// field name is, and [`parse`] only returns valid ones). A value containing
/// `]]>` is split across two CDATA sections, and `\r` is written as `&#13;`
/// between sections because XML parsers turn a literal `\r` into `\n`. With
/// that, [`parse`] gives the values back unchanged, provided they consist of
/// characters that XML 1.0 allows (no control characters other than tab, line
/// feed and carriage return). Any other character is written as U+FFFD, so the
/// document is always well-formed (an error message may quote what a caller sent).
pub fn write(params: &Params) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in params.iter() {
        out.push('<');
        out.push_str(k);
        out.push_str("><![CDATA[");
        // Split "]]>" as "]]" + "]]><![CDATA[" + ">" and take "\r" out of CDATA.
        for c in v.chars() {
            match c {
                '>' if out.ends_with("]]") => out.push_str("]]><![CDATA[>"),
                '\r' => out.push_str("]]>&#13;<![CDATA["),
                c if !is_xml_char(c) => out.push(char::REPLACEMENT_CHARACTER),
                c => out.push(c),
            }
        }
        out.push_str("]]></");
        out.push_str(k);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}

/// XML `S`: space, tab, CR, LF.
fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Whether a text event is only whitespace (allowed between elements).
fn is_blank(t: &[u8]) -> bool {
    t.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// XML 1.0 `Char`: what a document may contain, literally or by reference.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// XML 1.0 (5th edition) `NameStartChar`.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (5th edition) `NameChar`.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{B7}'
            | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn malformed(msg: &str) -> XmlError {
    XmlError::Malformed(msg.to_owned())
}

fn truncated() -> XmlError {
    malformed("the document ends before </xml>")
}

fn misplaced_decl() -> XmlError {
    malformed("the XML declaration <?xml …?> is only allowed at the start of the document")
}

/// Checks the element name and that the tag has no attributes; returns the name.
fn element_name(e: &BytesStart<'_>) -> Result<String, XmlError> {
    let name = std::str::from_utf8(e.name().as_ref())
        .map_err(|_| XmlError::NotUtf8)?
        .to_owned();
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char);
    if !valid {
        return Err(XmlError::Malformed(format!("invalid element name `{name}`")));
    }
    if !is_blank(e.attributes_raw()) {
        return Err(XmlError::Malformed(format!(
            "element <{name}> has attributes, which are not allowed"
        )));
    }
    Ok(name)
}

fn open_root(e: &BytesStart<'_>) -> Result<(), XmlError> {
    let name = element_name(e)?;
    if name == "xml" {
        Ok(())
    } else {
        Err(XmlError::WrongRoot(name))
    }
}

fn open_field(e: &BytesStart<'_>, seen: &mut HashSet<String>) -> Result<String, XmlError> {
    let name = element_name(e)?;
    if !seen.insert(name.clone()) {
        return Err(XmlError::DuplicateElement(name));
    }
    Ok(name)
}

/// Appends decoded text or CDATA content after checking its characters.
fn push_checked(
    value: &mut String,
    field: &str,
    content: Result<Cow<'_, str>, quick_xml::encoding::EncodingError>,
) -> Result<(), XmlError> {
    let content = content.map_err(|_| XmlError::NotUtf8)?;
    if let Some(c) = content.chars().find(|&c| !is_xml_char(c)) {
        return Err(forbidden_char(field, c));
    }
    value.push_str(&content);
    Ok(())
}

fn forbidden_char(field: &str, c: char) -> XmlError {
    XmlError::Malformed(format!(
        "field <{field}> contains the character U+{:04X}, which XML 1.0 does not allow",
        u32::from(c)
    ))
}

/// Resolves `&name;` / `&#N;` / `&#xH;`: the five predefined entities and
/// character references to XML characters; everything else is refused.
fn resolve_reference(r: &BytesRef<'_>, field: &str) -> Result<char, XmlError> {
    let name = r.decode().map_err(|_| XmlError::NotUtf8)?;
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(c),
            Ok(Some(c)) => Err(forbidden_char(field, c)),
            Ok(None) | Err(_) => Err(XmlError::Malformed(format!("invalid character reference `&{name};`"))),
        };
    }
    match name.as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        _ => Err(XmlError::Malformed(format!(
            "unknown entity reference `&{name};` (only the predefined XML entities are allowed)"
        ))),
    }
}

/// Accepts a declaration with a `version` and either no `encoding` or
/// `encoding="UTF-8"` (any case).
fn check_decl(decl: &quick_xml::events::BytesDecl<'_>) -> Result<(), XmlError> {
    if decl.version().is_err() {
        return Err(malformed("the XML declaration has no version"));
    }
    match decl.encoding() {
        None => Ok(()),
        Some(Ok(enc)) if enc.eq_ignore_ascii_case(b"utf-8") || enc.eq_ignore_ascii_case(b"utf8") => Ok(()),
        Some(Ok(enc)) => Err(XmlError::UnsupportedEncoding(
            String::from_utf8_lossy(&enc).into_owned(),
        )),
        Some(Err(e)) => Err(XmlError::Malformed(format!("invalid XML declaration: {e}"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<Params, XmlError> {
        parse(s.as_bytes(), &Limits::default())
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().copied().collect()
    }

    fn malformed(r: Result<Params, XmlError>) -> bool {
        matches!(r, Err(XmlError::Malformed(_)))
    }

    // ---- accepted documents -------------------------------------------------

    /// §5.3 querycontract request (plain text values, indented).
    #[test]
    fn parses_querycontract_sample() {
        let doc = "<xml>
  <sign>019C869758CC7F258C42F05CDB9EE361</sign>
  <mch_id>10000097</mch_id>
  <appid>wxf5b5e87a6a0fde94</appid>
  <contract_id>201509160000028648</contract_id>
  <version>1.0</version>
</xml>";
        assert_eq!(
            p(doc).unwrap(),
            params(&[
                ("sign", "019C869758CC7F258C42F05CDB9EE361"),
                ("mch_id", "10000097"),
                ("appid", "wxf5b5e87a6a0fde94"),
                ("contract_id", "201509160000028648"),
                ("version", "1.0"),
            ])
        );
    }

    /// §5.5 notification (CDATA values mixed with one plain value).
    #[test]
    fn parses_notification_sample() {
        let doc = "<xml>
  <return_code><![CDATA[SUCCESS]]></return_code>
  <result_code><![CDATA[SUCCESS]]></result_code>
  <sign><![CDATA[C380BEC2BFD727A4B6845133519F3AD6]]></sign>
  <mch_id><![CDATA[10010404]]></mch_id>
  <sub_mch_id><![CDATA[10010405]]></sub_mch_id>
  <contract_code><![CDATA[100001256]]></contract_code>
  <openid><![CDATA[onqOjjmM1tad-3ROpncN-yUfa6ua]]></openid>
  <plan_id><![CDATA[123]]></plan_id>
  <change_type><![CDATA[ADD]]></change_type>
  <operate_time><![CDATA[2015-07-01 10:00:00]]></operate_time>
  <contract_id><![CDATA[Wx15463511252015071056489715]]></contract_id>
  <request_serial>1000</request_serial>
</xml>";
        let got = p(doc).unwrap();
        assert_eq!(got.len(), 12);
        assert_eq!(got.get("operate_time"), Some("2015-07-01 10:00:00"));
        assert_eq!(got.get("request_serial"), Some("1000"));
        assert_eq!(got.iter().next(), Some(("return_code", "SUCCESS")));
    }

    /// §5.5 merchant acknowledgement and the §5.2 response (empty CDATA).
    #[test]
    fn parses_acknowledgement_and_empty_cdata() {
        assert_eq!(
            p("<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>")
                .unwrap(),
            params(&[("return_code", "SUCCESS"), ("return_msg", "OK")])
        );
        assert_eq!(
            p("<xml><return_msg><![CDATA[]]></return_msg><a></a><b/></xml>").unwrap(),
            params(&[("return_msg", ""), ("a", ""), ("b", "")])
        );
        assert_eq!(p("<xml/>").unwrap(), Params::new());
        assert_eq!(p("<xml></xml>").unwrap(), Params::new());
    }

    #[test]
    fn decodes_references_and_mixed_content() {
        let got = p("<xml><a>x &lt;&gt;&amp;&quot;&apos; &#20320;&#x597D;&#X41;</a>\
                     <b>1<![CDATA[<&amp;>]]>2<!-- skipped -->3</b></xml>");
        // `&#X41;` (capital X) is not a valid character reference in XML.
        assert!(malformed(got));
        let got = p("<xml><a>x &lt;&gt;&amp;&quot;&apos; &#20320;&#x597D;</a>\
                     <b>1<![CDATA[<&amp;>]]>2<!-- skipped -->3</b></xml>")
        .unwrap();
        assert_eq!(got.get("a"), Some("x <>&\"' 你好"));
        assert_eq!(got.get("b"), Some("1<&amp;>23"));
    }

    #[test]
    fn keeps_whitespace_and_normalises_line_ends() {
        let got = p("<xml><a>  x\r\ny\rz\n </a><b><![CDATA[\r\n]]>&#13;</b></xml>").unwrap();
        assert_eq!(got.get("a"), Some("  x\ny\nz\n "));
        assert_eq!(got.get("b"), Some("\n\r"));
    }

    #[test]
    fn accepts_declaration_bom_comments_and_utf8() {
        let doc = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
                   <!-- before --><xml><!-- in root --><name>微信代扣 😀</name></xml>\n<!-- after -->\n";
        assert_eq!(p(doc).unwrap(), params(&[("name", "微信代扣 😀")]));
        assert_eq!(p("<?xml version='1.0'?><xml/>").unwrap(), Params::new());
        assert_eq!(
            p("<?xml version='1.0' encoding='utf-8'?><xml/>").unwrap(),
            Params::new()
        );
        // Leading whitespace before the declaration is tolerated.
        assert_eq!(p("\n<?xml version='1.0'?><xml/>").unwrap(), Params::new());
    }

    // ---- refusals -----------------------------------------------------------

    #[test]
    fn refuses_doctype_with_external_entity() {
        let doc = r#"<?xml version="1.0"?>
<!DOCTYPE xml [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<xml><mch_id>&xxe;</mch_id></xml>"#;
        assert_eq!(p(doc), Err(XmlError::Doctype));
        assert_eq!(
            p(r#"<!DOCTYPE xml SYSTEM "http://evil.example/x.dtd"><xml/>"#),
            Err(XmlError::Doctype)
        );
    }

    #[test]
    fn refuses_internal_entity_declaration() {
        let doc = r#"<!DOCTYPE xml [ <!ENTITY name "value"> ]><xml><a>&name;</a></xml>"#;
        assert_eq!(p(doc), Err(XmlError::Doctype));
    }

    #[test]
    fn refuses_billion_laughs() {
        let doc = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><a>&lol9;</a></xml>"#;
        assert_eq!(p(doc), Err(XmlError::Doctype));
    }

    #[test]
    fn refuses_doctype_anywhere() {
        assert_eq!(p("<xml></xml><!DOCTYPE xml>"), Err(XmlError::Doctype));
    }

    #[test]
    fn refuses_undeclared_entities() {
        let got = p("<xml><a>&xxe;</a></xml>");
        assert!(malformed(got.clone()), "{got:?}");
        assert!(got.unwrap_err().to_string().contains("&xxe;"));
        assert!(malformed(p("<xml><a>a & b</a></xml>")));
        assert!(malformed(p("<xml><a>&#0;</a></xml>")));
        assert!(malformed(p("<xml><a>&#1;</a></xml>")));
        assert!(malformed(p("<xml><a>&#xD800;</a></xml>")));
        assert!(malformed(p("<xml><a>&#x110000;</a></xml>")));
    }

    #[test]
    fn refuses_processing_instructions() {
        assert_eq!(
            p("<?xml-stylesheet href='a'?><xml/>"),
            Err(XmlError::ProcessingInstruction)
        );
        assert_eq!(
            p("<xml><a><?php echo 1; ?></a></xml>"),
            Err(XmlError::ProcessingInstruction)
        );
        // A second declaration, or one after other content, is not a declaration.
        assert!(malformed(p("<?xml version='1.0'?><?xml version='1.0'?><xml/>")));
        assert!(malformed(p("<!-- c --><?xml version='1.0'?><xml/>")));
        assert!(malformed(p("<xml><?xml version='1.0'?></xml>")));
        assert!(malformed(p("<?xml?><xml/>")));
        assert!(malformed(p("<?xml encoding='UTF-8'?><xml/>")));
    }

    #[test]
    fn refuses_nested_elements() {
        assert_eq!(p("<xml><a><b>1</b></a></xml>"), Err(XmlError::Nested("a".into())));
        assert_eq!(p("<xml><a>text<b/></a></xml>"), Err(XmlError::Nested("a".into())));
    }

    #[test]
    fn refuses_duplicate_fields() {
        assert_eq!(
            p("<xml><sign>A</sign><mch_id>1</mch_id><sign>B</sign></xml>"),
            Err(XmlError::DuplicateElement("sign".into()))
        );
        assert_eq!(p("<xml><a/><a></a></xml>"), Err(XmlError::DuplicateElement("a".into())));
    }

    #[test]
    fn refuses_wrong_root() {
        assert_eq!(p("<root><a>1</a></root>"), Err(XmlError::WrongRoot("root".into())));
        assert_eq!(p("<XML></XML>"), Err(XmlError::WrongRoot("XML".into())));
        assert_eq!(p("<foo/>"), Err(XmlError::WrongRoot("foo".into())));
    }

    #[test]
    fn refuses_trailing_content() {
        assert_eq!(p("<xml></xml><xml></xml>"), Err(XmlError::TrailingContent));
        assert_eq!(p("<xml></xml>junk"), Err(XmlError::TrailingContent));
        assert_eq!(p("<xml></xml><![CDATA[x]]>"), Err(XmlError::TrailingContent));
        assert_eq!(p("<xml></xml>&amp;"), Err(XmlError::TrailingContent));
        assert_eq!(p("<xml/><a/>"), Err(XmlError::TrailingContent));
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(
            parse(b"<xml><a>\xff\xfe</a></xml>", &Limits::default()),
            Err(XmlError::NotUtf8)
        );
        // UTF-16 with BOM is not UTF-8 either.
        assert_eq!(
            parse(b"\xff\xfe<\0x\0m\0l\0/\0>\0", &Limits::default()),
            Err(XmlError::NotUtf8)
        );
        assert_eq!(
            p("<?xml version='1.0' encoding='GBK'?><xml/>"),
            Err(XmlError::UnsupportedEncoding("GBK".into()))
        );
    }

    #[test]
    fn refuses_oversize_documents() {
        let limits = Limits {
            max_bytes: 32,
            max_fields: 64,
        };
        let doc = "<xml><a>012345678901234</a></xml>";
        assert_eq!(doc.len(), 33);
        assert_eq!(parse(doc.as_bytes(), &limits), Err(XmlError::TooLarge));
        let exact = Limits {
            max_bytes: 33,
            ..limits
        };
        assert_eq!(parse(doc.as_bytes(), &exact).unwrap().get("a"), Some("012345678901234"));
        let big = format!("<xml><a>{}</a></xml>", "x".repeat(64 * 1024));
        assert_eq!(p(&big), Err(XmlError::TooLarge));
    }

    #[test]
    fn refuses_too_many_fields() {
        let doc = |n: usize| {
            let fields: String = (0..n).map(|i| format!("<f{i}>v</f{i}>")).collect();
            format!("<xml>{fields}</xml>")
        };
        assert_eq!(p(&doc(64)).unwrap().len(), 64);
        assert_eq!(p(&doc(65)), Err(XmlError::TooManyFields));
        let limits = Limits {
            max_bytes: 1024,
            max_fields: 2,
        };
        assert_eq!(parse(b"<xml><a/><b/><c/></xml>", &limits), Err(XmlError::TooManyFields));
    }

    #[test]
    fn refuses_truncated_documents() {
        let doc = "<xml><a><![CDATA[x]]></a><b>1</b></xml>";
        for end in 1..doc.len() {
            let got = p(&doc[..end]);
            assert!(malformed(got.clone()), "{:?} => {got:?}", &doc[..end]);
        }
    }

    #[test]
    fn refuses_empty_bodies() {
        assert_eq!(p(""), Err(XmlError::Empty));
        assert_eq!(p(" \r\n\t"), Err(XmlError::Empty));
        assert!(malformed(p("<?xml version='1.0'?>")));
        assert!(malformed(p("<!-- nothing -->")));
    }

    #[test]
    fn refuses_other_malformations() {
        for doc in [
            "xml",
            "text<xml/>",
            "<xml>text</xml>",
            "<xml><![CDATA[x]]></xml>",
            "<xml><a>1</b></xml>",
            "<xml><a>1</a></xmlx>",
            "<xml id='1'><a/></xml>",
            "<xml><a x='1'>v</a></xml>",
            "<xml><1a>v</1a></xml>",
            "<xml><a>\u{1}</a></xml>",
            "<xml><a><![CDATA[\u{FFFE}]]></a></xml>",
            "<xml><a>1</a><!-- a -- b --></xml>",
            "</xml>",
            "<xml><a>1</a>",
            "<xml><a",
            "<",
        ] {
            let got = p(doc);
            assert!(malformed(got.clone()), "{doc:?} => {got:?}");
        }
    }

    #[test]
    fn error_messages_are_readable() {
        assert_eq!(
            XmlError::Doctype.to_string(),
            "XML document contains a DOCTYPE declaration, which is not allowed"
        );
        assert_eq!(
            XmlError::DuplicateElement("sign".into()).to_string(),
            "XML field <sign> appears more than once"
        );
        assert_eq!(
            XmlError::WrongRoot("root".into()).to_string(),
            "XML root element must be <xml>, found <root>"
        );
        let err = p("<xml><a>1</b></xml>").unwrap_err().to_string();
        assert!(err.starts_with("malformed XML: "), "{err}");
    }

    // ---- writing ------------------------------------------------------------

    #[test]
    fn writes_cdata_in_order() {
        let ps = params(&[("return_code", "SUCCESS"), ("return_msg", "")]);
        assert_eq!(
            write(&ps),
            "<xml><return_code><![CDATA[SUCCESS]]></return_code>\
             <return_msg><![CDATA[]]></return_msg></xml>"
        );
        assert_eq!(write(&Params::new()), "<xml></xml>");
    }

    #[test]
    fn writes_characters_xml_forbids_as_replacement_characters() {
        let doc = write(&params(&[("return_msg", "PARAM_ERROR: `a\u{7}b\u{0}` \u{FFFF}")]));
        assert_eq!(
            parse(doc.as_bytes(), &Limits::default()),
            Ok(params(&[("return_msg", "PARAM_ERROR: `a\u{FFFD}b\u{FFFD}` \u{FFFD}")]))
        );
    }

    #[test]
    fn writes_awkward_values_that_parse_back() {
        for v in [
            "]]>",
            "]]]]>>",
            "a]]>b]]>c",
            "]",
            "]]",
            "x\r\ny\r",
            "<&>\"'",
            "\t\n",
            "]\r]>",
        ] {
            let ps = params(&[("v", v)]);
            let doc = write(&ps);
            assert_eq!(p(&doc), Ok(ps), "{v:?} => {doc}");
        }
        assert_eq!(
            write(&params(&[("v", "a]]>b")])),
            "<xml><v><![CDATA[a]]]]><![CDATA[>b]]></v></xml>"
        );
        assert_eq!(
            write(&params(&[("v", "a\rb")])),
            "<xml><v><![CDATA[a]]>&#13;<![CDATA[b]]></v></xml>"
        );
    }

    // ---- properties ---------------------------------------------------------

    /// Strings of XML 1.0 characters, biased towards the awkward ones.
    fn xml_value() -> impl Strategy<Value = String> {
        let awkward = prop::sample::select(vec![
            "]]>",
            "]",
            ">",
            "<",
            "&",
            "\r",
            "\r\n",
            "\n",
            "\t",
            " ",
            "&amp;",
            "<![CDATA[",
            "\u{FFFD}",
            "😀",
            "微信",
        ])
        .prop_map(str::to_owned);
        let any_char = any::<char>()
            .prop_filter("XML 1.0 Char", |&c| is_xml_char(c))
            .prop_map(String::from);
        prop::collection::vec(prop_oneof![awkward, any_char], 0..24).prop_map(|v| v.concat())
    }

    fn unique_params() -> impl Strategy<Value = Params> {
        prop::collection::vec(("[a-z_]{1,16}", xml_value()), 0..20).prop_map(|pairs| {
            let mut seen = HashSet::new();
            pairs.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes, &Limits::default());
        }

        #[test]
        fn parse_never_panics_on_xmlish_text(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "<xml>", "</xml>", "<a>", "</a>", "<b/>", "<![CDATA[", "]]>", "<!--", "-->",
                    "<?xml version='1.0'?>", "<!DOCTYPE x>", "&amp;", "&#65;", "&", ";", "<", ">",
                    "x", " ", "\r\n", "=", "'", "\u{0}", "\u{FEFF}",
                ]),
                0..40,
            )
        ) {
            let _ = parse(parts.concat().as_bytes(), &Limits::default());
        }

        #[test]
        fn write_then_parse_round_trips(ps in unique_params()) {
            prop_assert_eq!(parse(write(&ps).as_bytes(), &Limits::default()), Ok(ps));
        }
    }
}
