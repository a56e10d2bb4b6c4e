//! SPEC §4 certificate IDs: random, human-friendly, never sequential.
//!
//! 15 random Crockford base32 symbols (75 bits, well above the 60 the SPEC asks for, so IDs
//! cannot be guessed or enumerated) plus one check symbol, written in four groups of four:
//! `7K3M-9QXD-2HBR-4VTW`. The check symbol uses the Luhn mod N algorithm over the same 32
//! symbols (rather than Crockford's mod-37 symbols `*~$=U`, which are awkward in URLs and to
//! read aloud); it catches every single mistyped symbol and every swap of neighbours except `0`↔`Z`
//! (the one pair Luhn mod 32 cannot tell apart).
//! Parsing forgives case, `I`/`L` for `1`, `O` for `0`, and missing or extra hyphens/spaces.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA_LEN: usize = 15;

/// A validated certificate ID, stored in its canonical hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificateId(String);

fn value_of(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// Luhn mod 32 check value over symbol values, as if the check symbol were to follow them.
fn check_value(values: &[u32]) -> u32 {
    let mut sum = 0;
    let mut double = true;
    for &v in values.iter().rev() {
        let mut addend = if double { v * 2 } else { v };
        addend = addend / 32 + addend % 32;
        sum += addend;
        double = !double;
    }
    (32 - sum % 32) % 32
}

fn symbol(v: u32) -> char {
    char::from(ALPHABET[(v % 32) as usize])
}

fn format_groups(values: &[u32]) -> String {
    let mut s = String::with_capacity(19);
    for (i, v) in values.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            s.push('-');
        }
        s.push(symbol(*v));
    }
    s
}

impl CertificateId {
    /// Makes an ID from 16 random bytes (only 75 bits are used). The caller supplies the
    /// randomness so this crate stays free of I/O.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        let mut n = u128::from_le_bytes(bytes);
        let mut values = Vec::with_capacity(DATA_LEN + 1);
        for _ in 0..DATA_LEN {
            values.push((n & 31) as u32);
            n >>= 5;
        }
        values.push(check_value(&values));
        Self(format_groups(&values))
    }

    /// Parses what a person typed or scanned, with a message that says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "id";
        let mut values = Vec::with_capacity(DATA_LEN + 1);
        for c in raw.trim().chars() {
            if c == '-' || c == ' ' {
                continue;
            }
            match value_of(c) {
                Some(v) => values.push(v),
                None => {
                    return Err(DomainError::field(
                        FIELD,
                        format!(
                            "{c:?} cannot appear in a certificate ID (IDs look like 7K3M-9QXD-2HBR-4VTW)"
                        ),
                    ));
                }
            }
        }
        if values.len() != DATA_LEN + 1 {
            return Err(DomainError::field(
                FIELD,
                format!(
                    "a certificate ID has 16 characters, this has {} (IDs look like 7K3M-9QXD-2HBR-4VTW)",
                    values.len()
                ),
            ));
        }
        let (data, check) = values.split_at(DATA_LEN);
        if check_value(data) != check[0] {
            return Err(DomainError::field(
                FIELD,
                "this certificate ID contains a typo: its check character does not match",
            ));
        }
        Ok(Self(format_groups(&values)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CertificateId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CertificateId> for String {
    fn from(id: CertificateId) -> String {
        id.0
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_have_four_groups_of_four() {
        let id = CertificateId::from_random([7; 16]);
        let s = id.as_str();
        assert_eq!(s.len(), 19);
        assert_eq!(s.split('-').count(), 4);
        assert!(s.split('-').all(|g| g.len() == 4));
    }

    #[test]
    fn parse_forgives_case_and_look_alikes() {
        let id = CertificateId::from_random([0x5a; 16]);
        let typed = id.as_str().to_lowercase().replace('-', " ");
        assert_eq!(CertificateId::parse(&typed).unwrap(), id);
        let with_o = id.as_str().replace('0', "O");
        assert_eq!(CertificateId::parse(&with_o).unwrap(), id);
    }

    #[test]
    fn wrong_length_and_bad_symbols_are_explained() {
        let e = CertificateId::parse("ABCD-EFGH").unwrap_err();
        assert!(e.to_string().contains("16 characters"), "{e}");
        let e = CertificateId::parse("ABCD-EFGH-JKMN-PQRU").unwrap_err();
        assert!(e.to_string().contains("'U'"), "{e}");
    }

    proptest! {
        #[test]
        fn round_trips(bytes in any::<[u8; 16]>()) {
            let id = CertificateId::from_random(bytes);
            prop_assert_eq!(CertificateId::parse(id.as_str()).unwrap(), id);
        }

        #[test]
        fn any_single_mistyped_symbol_is_caught(bytes in any::<[u8; 16]>(), pos in 0usize..16, delta in 1u32..32) {
            let id = CertificateId::from_random(bytes);
            let mut symbols: Vec<char> = id.as_str().chars().filter(|c| *c != '-').collect();
            let v = value_of(symbols[pos]).unwrap();
            symbols[pos] = symbol((v + delta) % 32);
            let typo: String = symbols.into_iter().collect();
            prop_assert!(CertificateId::parse(&typo).is_err());
        }

        #[test]
        fn swapping_neighbours_is_caught(bytes in any::<[u8; 16]>(), pos in 0usize..15) {
            let id = CertificateId::from_random(bytes);
            let mut symbols: Vec<char> = id.as_str().chars().filter(|c| *c != '-').collect();
            prop_assume!(symbols[pos] != symbols[pos + 1]);
            let pair = [symbols[pos], symbols[pos + 1]];
            prop_assume!(pair != ['0', 'Z'] && pair != ['Z', '0']);
            symbols.swap(pos, pos + 1);
            let typo: String = symbols.into_iter().collect();
            prop_assert!(CertificateId::parse(&typo).is_err());
        }
    }
}
