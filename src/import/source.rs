//! Reading a user's file: `.gz` decompression and encoding detection.
//!
//! Shop exports arrive as UTF-8 (with or without BOM), UTF-16 from "Unicode
//! text" saves, or GBK/GB18030 from Chinese Excel. We decode everything to UTF-8
//! up front so the CSV layer sees one encoding, and name the line of the first
//! undecodable byte when none fits.

use std::io::Read;
use std::path::Path;

use super::ImportError;

/// A file's text and the encoding it was found in.
pub struct DecodedText {
    pub text: String,
    pub encoding: &'static str,
}

/// Reads `path`, transparently gunzipping `*.gz`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ImportError> {
    let io_err = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io_err)?;
    let gzipped = raw.starts_with(&[0x1f, 0x8b]);
    if !gzipped {
        return Ok(raw);
    }
    gunzip(&raw).map_err(|reason| ImportError::Format {
        path: path.to_path_buf(),
        line: None,
        reason: format!("the gzip data is damaged: {reason}"),
    })
}

/// Most bytes a `.gz` file may unpack to: a gzip bomb (a few MB that unpack to terabytes)
/// is refused before it fills the memory.
pub const MAX_UNPACKED_BYTES: u64 = 4 << 30;
/// Deflate cannot compress by more than about 1032:1, so a trailer claiming more is lying.
const MAX_DEFLATE_RATIO: usize = 1032;

/// Decompresses a gzip file. libdeflate does a whole buffer ~2x faster than zlib,
/// using the size the gzip trailer records (when it is possible at all); multi-member files,
/// and trailers that disagree or lie, go through flate2's streaming decoder, stopped at
/// [`MAX_UNPACKED_BYTES`].
fn gunzip(raw: &[u8]) -> Result<Vec<u8>, String> {
    let recorded = raw
        .len()
        .checked_sub(4)
        .and_then(|at| raw.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize);
    if recorded <= raw.len().saturating_mul(MAX_DEFLATE_RATIO) {
        let mut out = vec![0u8; recorded];
        if let Ok(n) = libdeflater::Decompressor::new().gzip_decompress(raw, &mut out)
            && n == recorded
        {
            return Ok(out);
        }
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(6));
    let read = flate2::read::MultiGzDecoder::new(raw)
        .take(MAX_UNPACKED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if read as u64 > MAX_UNPACKED_BYTES {
        return Err(format!(
            "it unpacks to more than {} GiB (a gzip bomb?); Strata does not read it",
            MAX_UNPACKED_BYTES >> 30
        ));
    }
    Ok(out)
}

/// Decodes `bytes` to UTF-8: UTF-8 (BOM optional), UTF-16 with BOM, else GBK/GB18030.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<DecodedText, ImportError> {
    const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (enc, _) = encoding_rs::Encoding::for_bom(&bytes).unwrap_or((encoding_rs::UTF_16LE, 2));
        let (text, had_errors) = enc.decode_with_bom_removal(&bytes);
        if had_errors {
            return Err(ImportError::Format {
                path: path.to_path_buf(),
                line: None,
                reason: format!(
                    "the file starts with a {} byte-order mark but is not valid {}",
                    enc.name(),
                    enc.name()
                ),
            });
        }
        return Ok(DecodedText {
            text: text.into_owned(),
            encoding: enc.name(),
        });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(ImportError::Format {
            path: path.to_path_buf(),
            line: None,
            reason: "this is a zip archive or an Excel workbook (.xlsx), not CSV text; in Excel use Save As > CSV UTF-8".into(),
        });
    }
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let line = 1 + bytes[..nul].iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(ImportError::Format {
            path: path.to_path_buf(),
            line: Some(line),
            reason: "the file holds NUL bytes: it is a binary file (a spreadsheet, an image?), not CSV text; export it as CSV".into(),
        });
    }
    let (encoding, bytes) = if bytes.starts_with(UTF8_BOM) {
        ("UTF-8 (BOM)", bytes[UTF8_BOM.len()..].to_vec())
    } else {
        ("UTF-8", bytes)
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(DecodedText { text, encoding }),
        Err(err) => {
            let bytes = err.into_bytes();
            if let Some(line) = mixed_utf8_line(&bytes) {
                return Err(ImportError::Format {
                    path: path.to_path_buf(),
                    line: Some(line),
                    reason: "this line is not UTF-8, but other lines are UTF-8 text with non-English characters: the file mixes two encodings (rows pasted from another file?); save it again as \"CSV UTF-8\"".into(),
                });
            }
            decode_gb18030(&bytes).ok_or_else(|| not_decodable(path, &bytes))
        }
    }
}

/// The first line that is not UTF-8 in a file whose other lines include valid UTF-8 with
/// non-ASCII characters: two encodings mixed. A GBK file's Chinese lines are almost never valid
/// UTF-8, so a whole-GBK file is not mistaken for this.
fn mixed_utf8_line(bytes: &[u8]) -> Option<u64> {
    let mut first_bad = None;
    let mut utf8_non_ascii = false;
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(text) => utf8_non_ascii |= !text.is_ascii(),
            Err(_) => {
                first_bad.get_or_insert(index as u64 + 1);
            }
        }
        if utf8_non_ascii && first_bad.is_some() {
            return first_bad;
        }
    }
    None
}

/// GB18030 (a superset of GBK and GB2312), accepted only when the decoded text
/// is mostly Chinese: a Latin-1 file can also happen to be valid GB18030.
fn decode_gb18030(bytes: &[u8]) -> Option<DecodedText> {
    let text = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)?;
    let (mut non_ascii, mut cjk) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        non_ascii += 1;
        if is_cjk(c) {
            cjk += 1;
        }
    }
    (cjk * 2 >= non_ascii).then(|| DecodedText {
        text: text.into_owned(),
        encoding: "GB18030",
    })
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F      // CJK punctuation
        | 0x3400..=0x4DBF    // extension A
        | 0x4E00..=0x9FFF    // unified ideographs
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFF00..=0xFFEF    // full-width forms
        | 0x20000..=0x2FA1F) // extensions B and later
}

fn not_decodable(path: &Path, bytes: &[u8]) -> ImportError {
    let valid_up_to = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let line = 1 + bytes[..valid_up_to].iter().filter(|&&b| b == b'\n').count() as u64;
    let byte = bytes.get(valid_up_to).copied().unwrap_or(0);
    ImportError::Format {
        path: path.to_path_buf(),
        line: Some(line),
        reason: format!(
            "byte 0x{byte:02X} is not valid UTF-8, and the file is not GBK/GB18030 either; save it as \"CSV UTF-8\" and import again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_bom_gbk_and_utf16() {
        let p = Path::new("t.csv");
        let plain = decode(p, "a,b\n".as_bytes().to_vec()).unwrap();
        assert_eq!((plain.text.as_str(), plain.encoding), ("a,b\n", "UTF-8"));
        let bom = decode(p, b"\xEF\xBB\xBFa,b\n".to_vec()).unwrap();
        assert_eq!((bom.text.as_str(), bom.encoding), ("a,b\n", "UTF-8 (BOM)"));
        let (gbk, _, _) = encoding_rs::GBK.encode("商品ID,商品名称\n1,运动鞋 男款\n");
        let gbk = decode(p, gbk.into_owned()).unwrap();
        assert_eq!(gbk.encoding, "GB18030");
        assert!(gbk.text.contains("运动鞋 男款"));
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "名称\n".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(p, utf16).unwrap().text, "名称\n");
    }

    #[test]
    fn latin1_is_not_mistaken_for_gbk() {
        // "résumé" in Latin-1 is valid GB18030 byte-wise but decodes to odd non-CJK text.
        let err = decode(
            Path::new("x.csv"),
            b"id,title\n1,r\xE9sum\xE9 \xB1\n".to_vec(),
        );
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("x.csv:2:"), "{msg}");
    }
}
