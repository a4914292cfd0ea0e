//! What may be uploaded: the accepted media types with the magic bytes each must start with, and filenames
//! made safe to keep as metadata and to send back in `Content-Disposition`.

use std::fmt;
use std::str::FromStr;

/// How many leading bytes the type check looks at.
pub const SNIFF_LEN: usize = 4096;

/// A media type a document may have. Configuration names them by their short name (`pdf`, `docx`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MediaType {
    Pdf,
    Docx,
    Xlsx,
    Odt,
    Ods,
    Doc,
    Xls,
    Csv,
    Txt,
    Jpeg,
    Png,
}

const ZIP: &[u8] = b"PK\x03\x04";
/// Microsoft's Compound File Binary format, the container of `.doc` and `.xls`.
const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const BINARY_MAGICS: [&[u8]; 5] = [b"%PDF-", ZIP, CFB, &[0xFF, 0xD8, 0xFF], b"\x89PNG\r\n\x1a\n"];

impl MediaType {
    pub const ALL: [MediaType; 11] = [
        Self::Pdf,
        Self::Docx,
        Self::Xlsx,
        Self::Odt,
        Self::Ods,
        Self::Doc,
        Self::Xls,
        Self::Csv,
        Self::Txt,
        Self::Jpeg,
        Self::Png,
    ];

    pub fn short_name(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
            Self::Odt => "odt",
            Self::Ods => "ods",
            Self::Doc => "doc",
            Self::Xls => "xls",
            Self::Csv => "csv",
            Self::Txt => "txt",
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Doc => "application/msword",
            Self::Xls => "application/vnd.ms-excel",
            Self::Csv => "text/csv",
            Self::Txt => "text/plain",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    /// The type a `Content-Type` (or tus `filetype`) names, ignoring parameters such as `charset`.
    pub fn from_mime(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let essence = if essence == "image/jpg" { "image/jpeg".to_owned() } else { essence };
        Self::ALL.into_iter().find(|t| t.mime() == essence)
    }

    /// Whether `head` (the first bytes of a file, up to [`SNIFF_LEN`]; fewer only when the file is shorter)
    /// is what a file of this type starts with.
    pub fn matches(self, head: &[u8]) -> bool {
        match self {
            Self::Pdf => head.starts_with(b"%PDF-"),
            Self::Jpeg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::Doc | Self::Xls => head.starts_with(CFB),
            // OpenDocument puts an uncompressed `mimetype` entry first (ODF 1.2 §3.3), so its type is right
            // there, from byte 38.
            Self::Odt | Self::Ods => {
                head.starts_with(ZIP) && head.get(30..38) == Some(b"mimetype") && contains(head, self.mime().as_bytes())
            }
            // Office Open XML is a ZIP whose part names say which application it belongs to; a file that
            // names the other application's parts in its first bytes is not what it claims.
            Self::Docx => head.starts_with(ZIP) && !contains(head, b"xl/") && !is_opendocument(head),
            Self::Xlsx => head.starts_with(ZIP) && !contains(head, b"word/") && !is_opendocument(head),
            Self::Csv | Self::Txt => is_text(head),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_opendocument(head: &[u8]) -> bool {
    head.get(30..38) == Some(b"mimetype")
}

/// Text: UTF-8 (a character cut off by the end of the sniffed bytes is fine) without NUL bytes, and not one of
/// the binary formats above.
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) || BINARY_MAGICS.iter().any(|magic| head.starts_with(magic)) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && head.len() - error.valid_up_to() < 4,
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl FromStr for MediaType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.short_name() == s || t.mime() == s)
            .ok_or_else(|| format!("unknown document type {s:?}"))
    }
}

/// Names Windows will not create a file with, whatever the extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
const MAX_FILENAME_BYTES: usize = 255;

/// A filename safe to keep and to offer back to someone saving the file: the last path component only (a
/// client's `../../etc/passwd` or `C:\x\y.pdf` keeps just `passwd` or `y.pdf`), without control characters or
/// characters Windows forbids, no leading dots, not a reserved device name, at most 255 bytes. Never used to
/// name the stored object (that is the document's id).
pub fn sanitise_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c })
        .collect();
    let mut name = cleaned.trim().trim_start_matches('.').trim_end_matches(['.', ' ']).to_owned();
    let stem = name.split('.').next().unwrap_or_default().trim().to_ascii_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        name.insert(0, '_');
    }
    if name.len() > MAX_FILENAME_BYTES {
        let mut end = MAX_FILENAME_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    if name.is_empty() { "document".to_owned() } else { name }
}

/// `Content-Disposition: attachment` naming the file: an ASCII fallback, and the exact name in RFC 8187
/// encoding for clients that read it.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_components_control_characters_and_reserved_names_are_removed() {
        assert_eq!(sanitise_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_filename("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitise_filename("a\u{0}b\nc.txt"), "a_b_c.txt");
        assert_eq!(sanitise_filename("..hidden"), "hidden");
        assert_eq!(sanitise_filename("CON.txt"), "_CON.txt");
        assert_eq!(sanitise_filename("what?.pdf"), "what_.pdf");
        assert_eq!(sanitise_filename("../"), "document");
        assert_eq!(sanitise_filename(&"é".repeat(200)).len(), 254);
    }

    #[test]
    fn declared_types_are_checked_against_the_first_bytes() {
        assert!(MediaType::Pdf.matches(b"%PDF-1.7\n..."));
        assert!(!MediaType::Pdf.matches(b"\x89PNG\r\n\x1a\n...."));
        assert!(MediaType::Png.matches(b"\x89PNG\r\n\x1a\n...."));
        assert!(MediaType::Txt.matches("plain words, and £ signs".as_bytes()));
        assert!(!MediaType::Txt.matches(b"%PDF-1.7"), "a PDF is not text, whatever it says");
        assert!(!MediaType::Csv.matches(b"a,b\x00c"));
        assert!(MediaType::Txt.matches(&"£".as_bytes()[..1]), "a character cut off by the sniff window");
        let mut odt = b"PK\x03\x04".to_vec();
        odt.resize(30, 0);
        odt.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.text");
        assert!(MediaType::Odt.matches(&odt));
        assert!(!MediaType::Ods.matches(&odt));
        assert!(!MediaType::Docx.matches(&odt));
        assert_eq!(MediaType::from_mime("text/plain; charset=utf-8"), Some(MediaType::Txt));
        assert_eq!("docx".parse::<MediaType>(), Ok(MediaType::Docx));
    }

    #[test]
    fn content_disposition_has_a_safe_fallback_and_the_exact_name() {
        assert_eq!(
            content_disposition("Plan \"v2\" é.pdf"),
            "attachment; filename=\"Plan _v2_ _.pdf\"; filename*=UTF-8''Plan%20%22v2%22%20%C3%A9.pdf"
        );
    }
}
