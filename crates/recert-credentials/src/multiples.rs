//! Ed25519 verification from tables of multiples, for keys that verify again and again.
//!
//! A verification computes R' = [s]B − [k]A and compares its encoding with the signature's
//! R. ed25519-dalek does that as one double-scalar multiplication: ~253 doublings plus
//! ~70 additions. Both points are known in advance, though — B always, A for every
//! credential an organization issued — so with a table of multiples of each, row `i` holding
//! j·64^i·P for j = 1…32, [s]B − [k]A is a sum of 43 + 43 table entries: no doublings at
//! all. Measured (`recert bench sign_verify`, "Ed25519 alone"): about twice as fast. A
//! table costs ~220 KB and ~0.3 ms to build, so a key gets one only once it has been used
//! [`SEEN_BEFORE_TABLE`] times, and at most [`MAX_TABLES`] keys have one.
//!
//! The group element is the same whichever way it is summed, and it is compressed and
//! compared byte for byte exactly as ed25519-dalek's `verify` does (cofactorless, `s`
//! canonical), so both accept and reject the same signatures — tested against it below,
//! including keys and points with small-order components.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// Bits per signed digit: digits run from −32 to 32.
const WIDTH: usize = 6;
const HALF: usize = 1 << (WIDTH - 1);
/// Digits of a scalar below 2^253 (every canonical scalar is below ℓ < 2^253).
const ROWS: usize = 253usize.div_ceil(WIDTH);

/// How many verifications with a key come before its table is built.
pub const SEEN_BEFORE_TABLE: u32 = 2;
/// Keys with a table at most (~220 KB each); further keys verify the ordinary way.
pub const MAX_TABLES: usize = 64;
/// Keys counted at most while they wait for a table.
const MAX_COUNTED: usize = 4096;

/// Row `i`, entry `j`: (j + 1)·64^i·P.
pub struct Multiples(Box<[[EdwardsPoint; HALF]]>);

impl Multiples {
    pub fn of(point: EdwardsPoint) -> Self {
        let mut rows = Vec::with_capacity(ROWS);
        let mut base = point;
        for _ in 0..ROWS {
            let mut row = [base; HALF];
            for j in 1..HALF {
                row[j] = row[j - 1] + base;
            }
            // 64·base = 2·(32·base): the row's last entry, doubled.
            base = row[HALF - 1] + row[HALF - 1];
            rows.push(row);
        }
        Self(rows.into_boxed_slice())
    }

    /// `acc` + [scalar]P, P the point this table was built from.
    fn add_multiple(&self, acc: &mut EdwardsPoint, scalar: &Scalar) {
        for (row, digit) in self.0.iter().zip(digits(scalar)) {
            match digit {
                1.. => *acc += row[usize::from(digit.unsigned_abs()) - 1],
                ..=-1 => *acc -= row[usize::from(digit.unsigned_abs()) - 1],
                0 => {}
            }
        }
    }
}

/// A canonical scalar as signed base-64 digits, least significant first: Σ dᵢ·64^i with
/// every dᵢ in −32…32.
fn digits(scalar: &Scalar) -> [i8; ROWS] {
    let bytes = scalar.as_bytes();
    let bit = |n: usize| bytes.get(n / 8).map_or(0, |b| (b >> (n % 8)) & 1);
    let mut out = [0i8; ROWS];
    let mut carry = 0u8;
    for (i, digit) in out.iter_mut().enumerate() {
        let v = (0..WIDTH).fold(carry, |v, b| v + (bit(i * WIDTH + b) << b));
        // v ≤ 64. Above 32: take 64 from this digit and carry one into the next. The top
        // digit covers bit 252 only, so it is at most 2 and never carries out.
        carry = u8::from(usize::from(v) > HALF);
        *digit = (i16::from(v) - 64 * i16::from(carry)) as i8; // in −32…32
    }
    debug_assert_eq!(carry, 0, "a scalar above 2^253");
    out
}

static BASEPOINT: LazyLock<Multiples> = LazyLock::new(|| Multiples::of(ED25519_BASEPOINT_POINT));

enum Entry {
    Seen(u32),
    Building,
    Ready(Arc<Multiples>),
}

#[derive(Default)]
struct Keys {
    entries: HashMap<[u8; 32], Entry>,
    tables: usize,
}

static KEYS: LazyLock<RwLock<Keys>> = LazyLock::new(|| RwLock::new(Keys::default()));

/// The table of −A for a key, once the key has been seen often enough to be worth one.
fn table_of(key: &ed25519_dalek::VerifyingKey) -> Option<Arc<Multiples>> {
    let id = key.to_bytes();
    {
        let keys = KEYS.read().ok()?;
        match keys.entries.get(&id) {
            Some(Entry::Ready(t)) => return Some(t.clone()),
            Some(Entry::Building) => return None,
            // No table can be made for it: counting it (under the write lock) is no use.
            _ if keys.tables >= MAX_TABLES => return None,
            None if keys.entries.len() >= MAX_COUNTED => return None,
            _ => {}
        }
    }
    {
        let mut keys = KEYS.write().ok()?;
        let room = keys.tables < MAX_TABLES;
        let counted = keys.entries.len();
        let seen = match keys.entries.get_mut(&id) {
            Some(Entry::Ready(t)) => return Some(t.clone()),
            Some(Entry::Building) => return None,
            Some(Entry::Seen(n)) => {
                *n += 1;
                *n
            }
            None if counted < MAX_COUNTED => {
                keys.entries.insert(id, Entry::Seen(1));
                1
            }
            None => return None,
        };
        if seen < SEEN_BEFORE_TABLE || !room {
            return None;
        }
        // Marked now, so that no other thread builds one for it too.
        keys.tables += 1;
        keys.entries.insert(id, Entry::Building);
    }
    // Built outside the lock: verifications with other keys go on meanwhile (one with
    // this key goes the ordinary way until the table is in).
    let table = Arc::new(Multiples::of(-key.to_edwards()));
    if let Ok(mut keys) = KEYS.write() {
        keys.entries.insert(id, Entry::Ready(table.clone()));
    }
    Some(table)
}

/// Whether `signature` is `key`'s over `message`: ed25519-dalek's `verify`, from tables
/// when the key has one.
pub fn verify(key: &ed25519_dalek::VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
    match table_of(key) {
        Some(table) => verify_with(&table, key, message, signature),
        None => {
            use ed25519_dalek::Verifier;
            key.verify(message, &ed25519_dalek::Signature::from_bytes(signature))
                .is_ok()
        }
    }
}

/// The check itself, given the table of −A.
fn verify_with(
    neg_a: &Multiples,
    key: &ed25519_dalek::VerifyingKey,
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    let (r, s) = signature.split_at(32);
    let Some(s) = <[u8; 32]>::try_from(s)
        .ok()
        .and_then(|s| Option::<Scalar>::from(Scalar::from_canonical_bytes(s)))
    else {
        return false;
    };
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(r)
            .chain_update(key.as_bytes())
            .chain_update(message)
            .finalize()
            .into(),
    );
    let mut sum = EdwardsPoint::identity();
    BASEPOINT.add_multiple(&mut sum, &s);
    neg_a.add_multiple(&mut sum, &k);
    sum.compress().as_bytes() == r
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use ed25519_dalek::{Signer, Verifier};

    /// The `n`th of a run of unpredictable-looking bytes (tests must repeat).
    fn bytes<const N: usize>(n: u64, tag: &str) -> [u8; N] {
        let h = Sha512::new()
            .chain_update(tag)
            .chain_update(n.to_le_bytes())
            .finalize();
        let mut out = [0; N];
        out.copy_from_slice(&h[..N]);
        out
    }

    #[test]
    fn digits_add_up_to_the_scalar() {
        let edge = [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE, // ℓ − 1: the largest canonical scalar
            Scalar::from(32u64),
            Scalar::from(33u64),
            Scalar::from(63u64),
            Scalar::from(64u64),
        ];
        let random = (0..200).map(|n| Scalar::from_bytes_mod_order_wide(&bytes(n, "digits")));
        for scalar in edge.into_iter().chain(random) {
            let d = digits(&scalar);
            assert!(d.iter().all(|&x| (-32..=32).contains(&x)));
            let sum = d.iter().rev().fold(Scalar::ZERO, |acc, &x| {
                let x = if x < 0 {
                    -Scalar::from(x.unsigned_abs())
                } else {
                    Scalar::from(x.unsigned_abs())
                };
                acc * Scalar::from(64u64) + x
            });
            assert_eq!(sum, scalar);
        }
    }

    #[test]
    fn tables_sum_to_the_double_scalar_multiplication_even_with_small_order_parts() {
        // Points with every small-order component, and the small-order points alone.
        let base = ED25519_BASEPOINT_POINT;
        let points: Vec<EdwardsPoint> = (0..8u64)
            .map(|n| {
                base * Scalar::from_bytes_mod_order_wide(&bytes(n, "point"))
                    + EIGHT_TORSION[n as usize]
            })
            .chain(EIGHT_TORSION)
            .collect();
        for (i, p) in points.iter().enumerate() {
            let table = Multiples::of(-p);
            for n in 0..16u64 {
                let s = Scalar::from_bytes_mod_order_wide(&bytes(n, "s"));
                let k = Scalar::from_bytes_mod_order_wide(&bytes(n + 100 * i as u64, "k"));
                let mut sum = EdwardsPoint::identity();
                BASEPOINT.add_multiple(&mut sum, &s);
                table.add_multiple(&mut sum, &k);
                let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-p, &s);
                assert_eq!(sum.compress(), expected.compress(), "point {i}, round {n}");
            }
        }
    }

    /// Both checks, on the same signature: they must agree.
    fn agree(key: &ed25519_dalek::VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
        let table = Multiples::of(-key.to_edwards());
        let ours = verify_with(&table, key, message, signature);
        let dalek = key
            .verify(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok();
        assert_eq!(ours, dalek, "key {key:?}, signature {signature:?}");
        ours
    }

    #[test]
    fn accepts_and_rejects_what_ed25519_dalek_does() {
        let signer = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let key = signer.verifying_key();
        for n in 0..50 {
            let message: [u8; 64] = bytes(n, "message");
            let good = signer.sign(&message).to_bytes();
            assert!(agree(&key, &message, &good));
            // Another message, a flipped bit anywhere in R or s.
            assert!(!agree(&key, &bytes::<64>(n + 1000, "message"), &good));
            for bit in [0, 7, 100, 255, 256, 300, 500, 511] {
                let mut bad = good;
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(!agree(&key, &message, &bad));
            }
            // s + ℓ: the same group equation, but not canonical — refused by both.
            let mut malleable = good;
            let s = Scalar::from_canonical_bytes(good[32..].try_into().unwrap()).unwrap();
            let l_plus_s = add_order(s.to_bytes());
            if let Some(b) = l_plus_s {
                malleable[32..].copy_from_slice(&b);
                assert!(!agree(&key, &message, &malleable));
            }
            // R with a small-order point added: the equation no longer holds.
            let r = curve25519_dalek::edwards::CompressedEdwardsY(good[..32].try_into().unwrap())
                .decompress()
                .unwrap();
            let mut twisted = good;
            twisted[..32].copy_from_slice((r + EIGHT_TORSION[1]).compress().as_bytes());
            assert!(!agree(&key, &message, &twisted));
        }
        // Keys with small-order parts, and the small-order keys themselves, on forged
        // signatures (R = small-order point, s = 0 is the classic one).
        for t in EIGHT_TORSION {
            let keys = [
                t,
                key.to_edwards() + t,
                ED25519_BASEPOINT_POINT * Scalar::from(5u64) + t,
            ];
            for point in keys {
                let Ok(weak) = ed25519_dalek::VerifyingKey::from_bytes(point.compress().as_bytes())
                else {
                    continue;
                };
                for r in EIGHT_TORSION {
                    for s in [Scalar::ZERO, Scalar::ONE] {
                        let mut sig = [0u8; 64];
                        sig[..32].copy_from_slice(r.compress().as_bytes());
                        sig[32..].copy_from_slice(s.as_bytes());
                        for n in 0..4 {
                            agree(&weak, &bytes::<64>(n, "weak"), &sig);
                        }
                    }
                }
            }
        }
    }

    /// `s` + ℓ as 32 little-endian bytes, when it fits in 256 bits.
    fn add_order(s: [u8; 32]) -> Option<[u8; 32]> {
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let t = u16::from(s[i]) + u16::from(L[i]) + carry;
            out[i] = t as u8;
            carry = t >> 8;
        }
        (carry == 0).then_some(out)
    }

    #[test]
    fn a_key_gets_its_table_after_being_seen_and_verifies_the_same_either_way() {
        let signer = ed25519_dalek::SigningKey::from_bytes(&bytes(1, "table key"));
        let key = signer.verifying_key();
        let message = b"twice";
        let good = signer.sign(message).to_bytes();
        let mut bad = good;
        bad[40] ^= 4;
        for round in 0..4 {
            assert!(verify(&key, message, &good), "round {round}");
            assert!(!verify(&key, message, &bad), "round {round}");
        }
        let keys = KEYS.read().unwrap();
        assert!(matches!(
            keys.entries.get(&key.to_bytes()),
            Some(Entry::Ready(_))
        ));
    }
}
