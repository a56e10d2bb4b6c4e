//! Signing keys (Ed25519), their public form as a Multikey, and the key-encryption key
//! that seals the secret halves at rest (ChaCha20-Poly1305).

use crate::{CredentialError, Result};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use ed25519_dalek::Signer;

fn key_error(e: impl std::fmt::Display) -> CredentialError {
    CredentialError::Key(e.to_string())
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(key_error)?;
    Ok(b)
}

/// The key-encryption key: seals signing keys before they are stored. Never printed.
#[derive(Clone)]
pub struct Kek([u8; 32]);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(…)")
    }
}

impl Kek {
    pub fn generate() -> Result<Self> {
        Ok(Self(random()?))
    }

    /// From its text form: 32 bytes in base64 (standard or URL alphabet, padded or not).
    pub fn parse(text: &str) -> Result<Self> {
        use base64::Engine;
        let t = text.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
            .map_err(|_| key_error("the key-encryption key is not base64"))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            key_error("the key-encryption key must be 32 bytes (44 base64 characters)")
        })?;
        Ok(Self(arr))
    }

    /// The text form [`Kek::parse`] reads.
    pub fn to_text(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// `nonce ‖ ciphertext` of `secret`, bound to `context` (e.g. the key's id), so a sealed
    /// key moved to another row does not open.
    pub fn seal(&self, secret: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let cipher = ChaCha20Poly1305::new(&self.0.into());
        let nonce: [u8; 12] = random()?;
        let sealed = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: secret,
                    aad: context,
                },
            )
            .map_err(|_| key_error("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 12 {
            return Err(key_error("a sealed key is too short"));
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(key_error)?;
        ChaCha20Poly1305::new(&self.0.into())
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| {
                key_error(
                    "a signing key does not open with this key-encryption key (was it changed?)",
                )
            })
    }
}

/// An Ed25519 signing key.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public().multibase())
    }
}

impl SigningKey {
    pub fn generate() -> Result<Self> {
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&random()?)))
    }

    pub fn from_secret(secret: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = secret
            .try_into()
            .map_err(|_| key_error("an Ed25519 secret key is 32 bytes"))?;
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&arr)))
    }

    pub fn secret(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

/// An Ed25519 public key, held decompressed: checked once when read, and every
/// verification with it skips decompressing the point again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

/// The multicodec prefix of an Ed25519 public key (0xed, as a varint).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

impl PublicKey {
    /// As a Multikey `publicKeyMultibase`: `z` + base58btc(0xed01 ‖ key), i.e. `z6Mk…`.
    pub fn multibase(&self) -> String {
        let mut bytes = ED25519_PUB.to_vec();
        bytes.extend_from_slice(self.0.as_bytes());
        format!("z{}", bs58::encode(bytes).into_string())
    }

    pub fn from_multibase(s: &str) -> Result<Self> {
        let body = s
            .strip_prefix('z')
            .ok_or_else(|| key_error("a Multikey starts with z (base58btc)"))?;
        let bytes = bs58::decode(body).into_vec().map_err(key_error)?;
        match bytes.split_first_chunk::<2>() {
            Some((prefix, key)) if *prefix == ED25519_PUB => {
                let key: [u8; 32] = key
                    .try_into()
                    .map_err(|_| key_error("an Ed25519 public key is 32 bytes"))?;
                ed25519_dalek::VerifyingKey::from_bytes(&key)
                    .map(Self)
                    .map_err(|_| key_error("not a point of Ed25519"))
            }
            _ => Err(key_error("not an Ed25519 Multikey")),
        }
    }

    /// Whether `signature` is this key's over `message`, as ed25519-dalek's `verify` decides
    /// (`s` must be canonical: no malleable forms); a key used again and again is checked
    /// from tables of its multiples, twice as fast (`multiples.rs`).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        crate::multiples::verify(&self.0, message, &sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_kek_and_context() {
        let kek = Kek::generate().unwrap();
        let key = SigningKey::generate().unwrap();
        let sealed = kek.seal(&key.secret(), b"acme#key-1").unwrap();
        let opened = kek.open(&sealed, b"acme#key-1").unwrap();
        assert_eq!(opened, key.secret());
        assert!(kek.open(&sealed, b"acme#key-2").is_err());
        assert!(
            Kek::generate()
                .unwrap()
                .open(&sealed, b"acme#key-1")
                .is_err()
        );
        let again = Kek::parse(&kek.to_text()).unwrap();
        assert_eq!(again.open(&sealed, b"acme#key-1").unwrap(), key.secret());
        assert!(Kek::parse("c2hvcnQ=").is_err());
        assert_eq!(format!("{kek:?}"), "Kek(…)");
    }

    #[test]
    fn multikeys_round_trip_and_signatures_check() {
        let key = SigningKey::from_secret(&[7u8; 32]).unwrap();
        let mb = key.public().multibase();
        assert!(mb.starts_with("z6Mk"), "{mb}");
        assert_eq!(PublicKey::from_multibase(&mb).unwrap(), key.public());
        let sig = key.sign(b"hello");
        assert!(key.public().verify(b"hello", &sig));
        assert!(!key.public().verify(b"hellp", &sig));
        assert!(PublicKey::from_multibase("zQ3s").is_err());
    }
}
