//! The three ciphers and their stored layouts (after the `k8s:enc:<provider>:v1:<key>:` prefix),
//! byte for byte as upstream's `aes` and `secretbox` transformers write them:
//!
//! - aesgcm: nonce(12) ‖ ciphertext ‖ tag(16), the storage key as additional data;
//! - aescbc: IV(16) ‖ AES-CBC(plaintext ‖ PKCS#7 padding), nothing authenticated;
//! - secretbox: nonce(24) ‖ tag(16) ‖ XSalsa20 ciphertext (NaCl `secretbox.Seal`).

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{
    BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, InnerIvInit,
};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use crypto_secretbox::XSalsa20Poly1305;
use rand::TryRngCore as _;
use rand::rngs::OsRng;

use super::{Error, ProviderKind};

type Aes192Gcm = AesGcm<Aes192, U12>;

const GCM_NONCE: usize = 12;
const AES_BLOCK: usize = 16;
const SECRETBOX_NONCE: usize = 24;
const SECRETBOX_TAG: usize = 16;

/// Why a stored value could not be opened (never says anything about the key).
pub(crate) const SHORT: &str = "the stored data was shorter than the required size";
pub(crate) const AUTH: &str = "message authentication failed";
const BLOCK_SIZE: &str = "the stored data is not a multiple of the block size";
const PKCS7_DATA: &str = "invalid PKCS7 data (empty or not padded)";
const PKCS7_PADDING: &str = "invalid padding on input";

/// One key, ready to seal and open. Its `Debug` output says only which algorithm it is.
#[derive(Clone)]
pub(crate) enum KeyCipher {
    Gcm128(Box<Aes128Gcm>),
    Gcm192(Box<Aes192Gcm>),
    Gcm256(Box<Aes256Gcm>),
    Cbc128(Box<Aes128>),
    Cbc192(Box<Aes192>),
    Cbc256(Box<Aes256>),
    Secretbox(Box<XSalsa20Poly1305>),
}

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            KeyCipher::Gcm128(_) => "AES-128-GCM",
            KeyCipher::Gcm192(_) => "AES-192-GCM",
            KeyCipher::Gcm256(_) => "AES-256-GCM",
            KeyCipher::Cbc128(_) => "AES-128-CBC",
            KeyCipher::Cbc192(_) => "AES-192-CBC",
            KeyCipher::Cbc256(_) => "AES-256-CBC",
            KeyCipher::Secretbox(_) => "XSalsa20-Poly1305",
        };
        f.write_str(name)
    }
}

impl KeyCipher {
    /// Builds the cipher of a provider from raw key bytes; `None` for a wrong key length.
    pub fn new(kind: ProviderKind, key: &[u8]) -> Option<Self> {
        Some(match (kind, key.len()) {
            (ProviderKind::AesGcm, 16) => {
                KeyCipher::Gcm128(Box::new(Aes128Gcm::new_from_slice(key).ok()?))
            }
            (ProviderKind::AesGcm, 24) => {
                KeyCipher::Gcm192(Box::new(Aes192Gcm::new_from_slice(key).ok()?))
            }
            (ProviderKind::AesGcm, 32) => {
                KeyCipher::Gcm256(Box::new(Aes256Gcm::new_from_slice(key).ok()?))
            }
            (ProviderKind::AesCbc, 16) => {
                KeyCipher::Cbc128(Box::new(Aes128::new_from_slice(key).ok()?))
            }
            (ProviderKind::AesCbc, 24) => {
                KeyCipher::Cbc192(Box::new(Aes192::new_from_slice(key).ok()?))
            }
            (ProviderKind::AesCbc, 32) => {
                KeyCipher::Cbc256(Box::new(Aes256::new_from_slice(key).ok()?))
            }
            (ProviderKind::Secretbox, 32) => {
                KeyCipher::Secretbox(Box::new(XSalsa20Poly1305::new_from_slice(key).ok()?))
            }
            _ => return None,
        })
    }

    /// Encrypts `plaintext`, appending the stored layout to `out` (which holds the prefix).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            KeyCipher::Gcm128(c) => gcm_seal(c.as_ref(), aad, plaintext, out),
            KeyCipher::Gcm192(c) => gcm_seal(c.as_ref(), aad, plaintext, out),
            KeyCipher::Gcm256(c) => gcm_seal(c.as_ref(), aad, plaintext, out),
            KeyCipher::Cbc128(c) => cbc_seal(c.as_ref(), plaintext, out),
            KeyCipher::Cbc192(c) => cbc_seal(c.as_ref(), plaintext, out),
            KeyCipher::Cbc256(c) => cbc_seal(c.as_ref(), plaintext, out),
            KeyCipher::Secretbox(c) => {
                let mut nonce = [0u8; SECRETBOX_NONCE];
                fill_random(&mut nonce)?;
                // crypto_secretbox puts the tag first, as NaCl and Go's secretbox.Seal do.
                let sealed = c
                    .encrypt(&nonce.into(), plaintext)
                    .map_err(|_| Error::Encrypt)?;
                out.reserve(SECRETBOX_NONCE + sealed.len());
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
                Ok(())
            }
        }
    }

    /// Decrypts a stored layout (the part after the key's prefix).
    pub fn open(&self, aad: &[u8], data: &[u8]) -> Result<Vec<u8>, &'static str> {
        match self {
            KeyCipher::Gcm128(c) => gcm_open(c.as_ref(), aad, data),
            KeyCipher::Gcm192(c) => gcm_open(c.as_ref(), aad, data),
            KeyCipher::Gcm256(c) => gcm_open(c.as_ref(), aad, data),
            KeyCipher::Cbc128(c) => cbc_open(c.as_ref(), data),
            KeyCipher::Cbc192(c) => cbc_open(c.as_ref(), data),
            KeyCipher::Cbc256(c) => cbc_open(c.as_ref(), data),
            KeyCipher::Secretbox(c) => {
                if data.len() < SECRETBOX_NONCE + SECRETBOX_TAG {
                    return Err(SHORT);
                }
                let (nonce, sealed) = data.split_at(SECRETBOX_NONCE);
                let nonce: [u8; SECRETBOX_NONCE] = nonce.try_into().map_err(|_| SHORT)?;
                c.decrypt(&nonce.into(), sealed).map_err(|_| AUTH)
            }
        }
    }
}

fn gcm_seal<C>(c: &C, aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error>
where
    C: Aead + AeadCore<NonceSize = U12>,
{
    let mut nonce = [0u8; GCM_NONCE];
    fill_random(&mut nonce)?;
    let sealed = c
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Encrypt)?;
    out.reserve(GCM_NONCE + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(())
}

fn gcm_open<C>(c: &C, aad: &[u8], data: &[u8]) -> Result<Vec<u8>, &'static str>
where
    C: Aead + AeadCore<NonceSize = U12>,
{
    if data.len() < GCM_NONCE {
        return Err(SHORT);
    }
    let (nonce, sealed) = data.split_at(GCM_NONCE);
    let nonce: [u8; GCM_NONCE] = nonce.try_into().map_err(|_| SHORT)?;
    c.decrypt(&nonce.into(), Payload { msg: sealed, aad })
        .map_err(|_| AUTH)
}

fn cbc_seal<C>(c: &C, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error>
where
    C: BlockCipher<BlockSize = U16> + BlockEncrypt + Clone,
{
    let mut iv = [0u8; AES_BLOCK];
    fill_random(&mut iv)?;
    // PKCS#7: always 1..=16 bytes, each holding the padding length.
    let pad = AES_BLOCK - plaintext.len() % AES_BLOCK;
    let mut body = Vec::with_capacity(plaintext.len() + pad);
    body.extend_from_slice(plaintext);
    body.resize(plaintext.len() + pad, pad as u8);
    let len = body.len();
    cbc::Encryptor::<C>::inner_iv_init(c.clone(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut body, len)
        .map_err(|_| Error::Encrypt)?;
    out.reserve(AES_BLOCK + body.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&body);
    Ok(())
}

fn cbc_open<C>(c: &C, data: &[u8]) -> Result<Vec<u8>, &'static str>
where
    C: BlockCipher<BlockSize = U16> + BlockDecrypt + Clone,
{
    if data.len() < AES_BLOCK {
        return Err(SHORT);
    }
    let (iv, body) = data.split_at(AES_BLOCK);
    if body.len() % AES_BLOCK != 0 {
        return Err(BLOCK_SIZE);
    }
    if body.is_empty() {
        return Err(PKCS7_DATA);
    }
    let iv: [u8; AES_BLOCK] = iv.try_into().map_err(|_| SHORT)?;
    let mut result = body.to_vec();
    cbc::Decryptor::<C>::inner_iv_init(c.clone(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut result)
        .map_err(|_| BLOCK_SIZE)?;
    // The same checks as upstream (which accepts any padding length up to the data's, all
    // bytes equal), so that everything upstream reads, ferrokube reads.
    let pad = usize::from(result[result.len() - 1]);
    if pad == 0 || pad > result.len() {
        return Err(PKCS7_DATA);
    }
    let size = result.len() - pad;
    if result[size..].iter().any(|b| usize::from(*b) != pad) {
        return Err(PKCS7_PADDING);
    }
    result.truncate(size);
    Ok(result)
}

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), Error> {
    OsRng.try_fill_bytes(buf).map_err(|_| Error::Random)
}
