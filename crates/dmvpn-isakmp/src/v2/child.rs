//! Child SAs read from captured exchanges, and their keys from SK_d (RFC 7296 §2.17).
//!
//! A reader of captures that holds an IKE SA's SK_d (dmvpn's ninth `ikev2_decryption_table`
//! column) can compute the ESP keys of every Child SA that SA creates without a DH secret: the
//! first Child SA (IKE_AUTH) and every CREATE_CHILD_SA without a KE payload take
//!
//! ```text
//! KEYMAT = prf+(SK_d, Ni | Nr) = encryption key i→r | integrity key i→r | encryption key r→i | integrity key r→i
//! ```
//!
//! with the nonces of the exchange that made it (IKE_SA_INIT's for IKE_AUTH), "i" being whoever sent
//! that exchange's request. With PFS (a KE payload in CREATE_CHILD_SA) the seed starts with the new
//! Diffie-Hellman secret g^ir, which no capture holds: such a Child SA is still reported
//! ([`Negotiated::pfs`]), but its keys must come from elsewhere (an `esp_sa` file).
//!
//! [`ChildTracker`] pairs each request with its response (IKE_SA_INIT in the clear, IKE_AUTH and
//! CREATE_CHILD_SA decrypted) and reports each Child SA the response accepts: its two SPIs, the
//! chosen transforms and the nonces. [`Negotiated::keys`] then derives the keys from SK_d.
//!
//! ```
//! use dmvpn_isakmp::keys::Secret;
//! use dmvpn_isakmp::v2::child::{ChildKeys, Negotiated};
//! use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
//!
//! let child = Negotiated {
//!     spis: [0x1111_1111, 0x2222_2222],
//!     transforms: (Encryption::AesCbc(128), Integrity::HmacSha1_96, false),
//!     nonces: [vec![1; 32], vec![2; 32]],
//!     pfs: false,
//! };
//! let keys: ChildKeys = child.keys(&Secret::new(vec![7; 32])).expect("no PFS, a known PRF");
//! assert_eq!(keys.encryption_i.len(), 16);
//! assert_eq!(keys.integrity_r.len(), 20);
//! let pfs = Negotiated { pfs: true, ..child };
//! assert!(pfs.keys(&Secret::new(vec![7; 32])).is_none());
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::consts::{EncrId, ExchangeType, IntegId, ProtocolId, TransformType};
use super::crypto::{Encryption, Integrity};
use super::keys::prf_plus;
use super::sa::Proposal;
use super::{Body, Header, Payloads};
use crate::keys::{Prf, Secret};

/// At most this many IKE SAs' nonces and open requests are kept; beyond it the oldest are dropped.
const MAX_ENTRIES: usize = 4096;

/// An ESP Child SA a captured response accepted.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Negotiated {
    /// The SPI each side chose: the exchange's initiator's (in its request; the responder sends
    /// to it), then the responder's (in its response; the initiator sends to it).
    pub spis: [u32; 2],
    /// The chosen encryption and integrity transforms ([`Integrity::None`] with an AEAD cipher),
    /// and whether extended sequence numbers were chosen.
    pub transforms: (Encryption, Integrity, bool),
    /// The exchange's nonces, Ni then Nr (IKE_SA_INIT's for IKE_AUTH).
    pub nonces: [Vec<u8>; 2],
    /// Whether the exchange carried KE payloads (PFS): KEYMAT then needs g^ir, not in a capture.
    pub pfs: bool,
}

/// The four keys of a Child SA (RFC 7296 §2.17), "i" being the exchange's initiator.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ChildKeys {
    /// Encryption key material (salt included for AES-GCM) of the initiator-to-responder SA.
    pub encryption_i: Secret,
    /// Integrity key of the initiator-to-responder SA (empty with an AEAD cipher).
    pub integrity_i: Secret,
    /// Encryption key material of the responder-to-initiator SA.
    pub encryption_r: Secret,
    /// Integrity key of the responder-to-initiator SA.
    pub integrity_r: Secret,
}

/// The PRF whose output is `len` bytes long: an IKE SA's SK_d has the PRF's output length
/// (RFC 7296 §2.14), and each PRF dmvpn knows has its own.
#[must_use]
pub const fn prf_of_len(len: usize) -> Option<Prf> {
    Some(match len {
        16 => Prf::HmacMd5,
        20 => Prf::HmacSha1,
        32 => Prf::HmacSha256,
        48 => Prf::HmacSha384,
        64 => Prf::HmacSha512,
        _ => return None,
    })
}

/// KEYMAT for a Child SA (RFC 7296 §2.17), split into its four keys: `prf+(SK_d, [g^ir |] Ni |
/// Nr)` with the PRF of the IKE SA that owns `sk_d`.
#[must_use]
pub fn child_keys(
    prf: Prf,
    sk_d: &[u8],
    g_ir: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    encryption: Encryption,
    integrity: Integrity,
) -> ChildKeys {
    let e_len = encryption.key_material_len();
    let a_len = integrity.prf().map_or(0, Prf::output_len);
    let seed = [g_ir.unwrap_or_default(), ni, nr].concat();
    let keymat = prf_plus(prf, sk_d, &seed, 2 * (e_len + a_len));
    let mut rest = keymat.as_bytes();
    let mut take = |len: usize| {
        let (part, after) = rest.split_at(len.min(rest.len()));
        rest = after;
        Secret::from_slice(part)
    };
    ChildKeys {
        encryption_i: take(e_len),
        integrity_i: take(a_len),
        encryption_r: take(e_len),
        integrity_r: take(a_len),
    }
}

impl Negotiated {
    /// The keys from the IKE SA's SK_d (its PRF from SK_d's length), or `None` with PFS or an
    /// SK_d of no known PRF's length.
    #[must_use]
    pub fn keys(&self, sk_d: &Secret) -> Option<ChildKeys> {
        if self.pfs {
            return None;
        }
        let prf = prf_of_len(sk_d.len())?;
        let [ni, nr] = &self.nonces;
        let (encryption, integrity, _) = self.transforms;
        Some(child_keys(
            prf,
            sk_d.as_bytes(),
            None,
            ni,
            nr,
            encryption,
            integrity,
        ))
    }
}

/// The encryption transform of an IKEv2 transform ID and key length (RFC 7296 §3.3.2, RFC 5282).
#[must_use]
pub fn encryption_of(id: u16, key_bits: Option<u16>) -> Option<Encryption> {
    let bits = || key_bits.filter(|bits| matches!(bits, 128 | 192 | 256));
    Some(match EncrId(id) {
        EncrId::NULL => Encryption::Null,
        EncrId::TRIPLE_DES => Encryption::TripleDes,
        EncrId::AES_CBC => Encryption::AesCbc(bits()?),
        EncrId::AES_CTR => Encryption::AesCtr(bits()?),
        EncrId::AES_CCM_8 => Encryption::AesCcm(bits()?, 8),
        EncrId::AES_CCM_12 => Encryption::AesCcm(bits()?, 12),
        EncrId::AES_CCM_16 => Encryption::AesCcm(bits()?, 16),
        EncrId::AES_GCM_8 => Encryption::AesGcm(bits()?, 8),
        EncrId::AES_GCM_12 => Encryption::AesGcm(bits()?, 12),
        EncrId::AES_GCM_16 => Encryption::AesGcm(bits()?, 16),
        _ => return None,
    })
}

/// The integrity transform of an IKEv2 transform ID (RFC 7296 §3.3.2, RFC 4868).
#[must_use]
pub const fn integrity_of(id: u16) -> Option<Integrity> {
    Some(match IntegId(id) {
        IntegId::NONE => Integrity::None,
        IntegId::HMAC_MD5_96 => Integrity::HmacMd5_96,
        IntegId::HMAC_SHA1_96 => Integrity::HmacSha1_96,
        IntegId::HMAC_SHA2_256_128 => Integrity::HmacSha256_128,
        IntegId::HMAC_SHA2_384_192 => Integrity::HmacSha384_192,
        IntegId::HMAC_SHA2_512_256 => Integrity::HmacSha512_256,
        _ => return None,
    })
}

/// What a request offered, kept until its response.
#[derive(Clone, Debug, Default)]
struct Request {
    /// The nonce.
    nonce: Vec<u8>,
    /// Each ESP proposal's number and SPI.
    proposals: Vec<(u8, u32)>,
    /// Whether it carried a KE payload.
    ke: bool,
}

/// What one message says about Child SAs: its nonce, KE, and SA proposals.
#[derive(Default)]
struct Read<'a> {
    nonce: Option<&'a [u8]>,
    ke: bool,
    proposals: Vec<Proposal<'a>>,
}

fn read(chain: Payloads<'_>) -> Read<'_> {
    let mut out = Read::default();
    for body in chain.map_while(Result::ok).filter_map(|p| p.decode().ok()) {
        match body {
            Body::Nonce(nonce) => out.nonce = Some(nonce),
            Body::Ke(_) => out.ke = true,
            Body::Sa(sa) => out.proposals.extend(sa.proposals().map_while(Result::ok)),
            _ => {}
        }
    }
    out
}

fn esp_spi(proposal: &Proposal<'_>) -> Option<u32> {
    if proposal.protocol != ProtocolId::ESP {
        return None;
    }
    Some(u32::from_be_bytes(proposal.spi.try_into().ok()?))
}

/// The transforms of an accepted ESP proposal, if dmvpn knows them all.
fn chosen(proposal: &Proposal<'_>) -> Option<(Encryption, Integrity, bool)> {
    let (mut encryption, mut integrity, mut esn) = (None, Integrity::None, false);
    for transform in proposal.transforms().map_while(Result::ok) {
        match transform.ty {
            TransformType::ENCR => encryption = encryption_of(transform.id, transform.key_length()),
            TransformType::INTEG => integrity = integrity_of(transform.id)?,
            TransformType::ESN => esn = transform.id == 1,
            _ => {}
        }
    }
    Some((encryption?, integrity, esn))
}

/// An IKE SA (SPIs) and an exchange in it (message ID, and whether the original initiator sent
/// the request).
type ExchangeKey = ([u8; 8], [u8; 8], u32, bool);

/// Follows IKEv2 exchanges and reports the ESP Child SAs they create (see the module docs).
///
/// Feed it, in capture order, every IKE_SA_INIT message in the clear and the decrypted inner
/// chain of every IKE_AUTH and CREATE_CHILD_SA message.
#[derive(Clone, Debug, Default)]
pub struct ChildTracker {
    /// IKE_SA_INIT nonces by the initiator's SPI: (Ni, Nr).
    init: BTreeMap<[u8; 8], (Vec<u8>, Vec<u8>)>,
    /// Requests waiting for their response.
    requests: BTreeMap<ExchangeKey, Request>,
}

impl ChildTracker {
    /// Feeds one message: `chain` is its payload chain (IKE_SA_INIT) or its decrypted inner chain
    /// (IKE_AUTH, CREATE_CHILD_SA; other exchanges are ignored). Returns the Child SA a response
    /// accepts.
    pub fn observe(&mut self, header: &Header, chain: Payloads<'_>) -> Option<Negotiated> {
        let exchange = header.exchange_type;
        let response = header.flags.response();
        // the request's sender: the response comes from the other side
        let by_initiator = header.flags.initiator() != response;
        let key = (
            header.initiator_spi,
            header.responder_spi,
            header.message_id,
            by_initiator,
        );
        let message = read(chain);
        if exchange == ExchangeType::IKE_SA_INIT {
            let nonce = message.nonce?;
            if self.init.len() >= MAX_ENTRIES {
                self.init.clear();
            }
            let entry = self.init.entry(header.initiator_spi).or_default();
            if response { &mut entry.1 } else { &mut entry.0 }.clear();
            if response { &mut entry.1 } else { &mut entry.0 }.extend_from_slice(nonce);
            return None;
        }
        if exchange != ExchangeType::IKE_AUTH && exchange != ExchangeType::CREATE_CHILD_SA {
            return None;
        }
        if !response {
            if self.requests.len() >= MAX_ENTRIES {
                self.requests.clear();
            }
            let request = Request {
                nonce: message.nonce.unwrap_or_default().to_vec(),
                proposals: message
                    .proposals
                    .iter()
                    .filter_map(|p| Some((p.number, esp_spi(p)?)))
                    .collect(),
                ke: message.ke,
            };
            self.requests.insert(key, request);
            return None;
        }
        let request = self.requests.remove(&key)?;
        let accepted = message.proposals.first()?;
        let responder_spi = esp_spi(accepted)?;
        let transforms = chosen(accepted)?;
        let initiator_spi = request
            .proposals
            .iter()
            .find(|(number, _)| *number == accepted.number)
            .or(request.proposals.first())?
            .1;
        let (ni, nr) = if exchange == ExchangeType::IKE_AUTH {
            self.init.get(&header.initiator_spi)?.clone()
        } else {
            (request.nonce, message.nonce?.to_vec())
        };
        if ni.is_empty() || nr.is_empty() {
            return None;
        }
        Some(Negotiated {
            spis: [initiator_spi, responder_spi],
            transforms,
            nonces: [ni, nr],
            pfs: exchange == ExchangeType::CREATE_CHILD_SA && (request.ke || message.ke),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7296 §2.17's layout: the four keys are consecutive slices of one prf+ stream.
    #[test]
    fn keymat_is_split_in_rfc_order() {
        let (ni, nr) = ([0xa5; 16], [0x5a; 16]);
        let keys = child_keys(
            Prf::HmacSha256,
            &[9; 32],
            None,
            &ni,
            &nr,
            Encryption::AesCbc(256),
            Integrity::HmacSha256_128,
        );
        let stream = prf_plus(Prf::HmacSha256, &[9; 32], &[ni, nr].concat(), 128);
        let joined = [
            keys.encryption_i.as_bytes(),
            keys.integrity_i.as_bytes(),
            keys.encryption_r.as_bytes(),
            keys.integrity_r.as_bytes(),
        ]
        .concat();
        assert_eq!(joined, stream.as_bytes());
        let with_dh = child_keys(
            Prf::HmacSha256,
            &[9; 32],
            Some(&[3; 8]),
            &ni,
            &nr,
            Encryption::AesCbc(256),
            Integrity::HmacSha256_128,
        );
        assert_ne!(with_dh.encryption_i, keys.encryption_i);
    }

    #[test]
    fn gcm_takes_its_salt_and_no_integrity_key() {
        let keys = child_keys(
            Prf::HmacSha1,
            &[1; 20],
            None,
            &[2; 8],
            &[3; 8],
            Encryption::AesGcm(128, 16),
            Integrity::None,
        );
        assert_eq!(keys.encryption_i.len(), 20);
        assert!(keys.integrity_i.is_empty() && keys.integrity_r.is_empty());
    }

    #[test]
    fn transform_ids() {
        assert_eq!(encryption_of(12, Some(256)), Some(Encryption::AesCbc(256)));
        assert_eq!(encryption_of(12, None), None);
        assert_eq!(
            encryption_of(20, Some(128)),
            Some(Encryption::AesGcm(128, 16))
        );
        assert_eq!(encryption_of(3, None), Some(Encryption::TripleDes));
        assert_eq!(encryption_of(12, Some(100)), None);
        assert_eq!(integrity_of(12), Some(Integrity::HmacSha256_128));
        assert_eq!(integrity_of(5), None);
        assert_eq!(prf_of_len(32), Some(Prf::HmacSha256));
        assert_eq!(prf_of_len(33), None);
    }
}
