//! ESP keys derived from an IKEv2 SA's SK_d (dmvpn's ninth `ikev2_decryption_table` column): the
//! decoder follows the exchanges of the IKE SAs whose line has SK_d, and for each Child SA created
//! without PFS (IKE_AUTH, CREATE_CHILD_SA without KE) it learns the two ESP SAs (RFC 7296 §2.17),
//! so their ESP decrypts with no `esp_sa` file. A Child SA created with PFS needs the new
//! Diffie-Hellman secret, which no capture holds: its ESP needs an `esp_sa` line.
//!
//! The learnt SAs match by SPI from any address (the capture does not say which addresses a
//! tunnel-mode Child SA's packets use on the outside).

use dmvpn_isakmp::v2::child::{ChildTracker, Negotiated};
use dmvpn_isakmp::v2::crypto::{Encryption as IkeEncryption, Icv, Integrity as IkeIntegrity};
use dmvpn_isakmp::v2::{self, ExchangeType, Payloads};

use crate::keys::{AddrPattern, AddressFamily, EspSa, Ikev2Key, SecretBytes, SpiPattern};

/// The Child SAs of the IKE SAs with SK_d, followed message by message.
#[derive(Clone, Debug, Default)]
pub(super) struct Children {
    tracker: ChildTracker,
}

impl Children {
    /// Feeds one IKEv2 message of an SA with SK_d (`key`; `None` for an IKE_SA_INIT, whose
    /// request has no responder SPI yet): its clear chain for IKE_SA_INIT, else its decrypted inner
    /// chain (`inner`, or `reassembled` for the fragment that completed a message). Returns the ESP
    /// SAs a response created, each direction with its own keys.
    pub(super) fn observe(
        &mut self,
        message: &v2::Message<'_>,
        key: Option<&Ikev2Key>,
        inner: Option<&v2::Inner>,
        reassembled: Option<(v2::PayloadType, &[u8])>,
    ) -> Vec<EspSa> {
        let header = &message.header;
        let chain = if header.exchange_type == ExchangeType::IKE_SA_INIT {
            message.payloads()
        } else if let Some((first, chain)) = reassembled {
            Payloads::new(first, chain, 0)
        } else {
            match inner {
                Some(inner) if inner.fragment.is_none() && inner.decrypted.icv != Icv::Bad => {
                    inner.payloads()
                }
                _ => return Vec::new(),
            }
        };
        let Some(negotiated) = self.tracker.observe(header, chain) else {
            return Vec::new();
        };
        key.and_then(|key| esp_sas(&negotiated, key))
            .map(Vec::from)
            .unwrap_or_default()
    }
}

/// The two ESP SAs of a Child SA, from its IKE SA's SK_d: to the exchange's responder (its SPI,
/// the initiator's keys) and back. `None` with PFS, without SK_d, or with a transform the ESP
/// decoder does not have.
fn esp_sas(child: &Negotiated, key: &Ikev2Key) -> Option<[EspSa; 2]> {
    let keys = child.keys(key.sk_d.as_ref()?)?;
    let (encryption, integrity, esn) = child.transforms;
    let encryption = match encryption {
        IkeEncryption::Null => dmvpn_esp::Encryption::Null,
        IkeEncryption::TripleDes => dmvpn_esp::Encryption::TripleDesCbc,
        IkeEncryption::AesCbc(_) => dmvpn_esp::Encryption::AesCbc,
        IkeEncryption::AesGcm(_, 8) => dmvpn_esp::Encryption::AesGcm8,
        IkeEncryption::AesGcm(_, 12) => dmvpn_esp::Encryption::AesGcm12,
        IkeEncryption::AesGcm(_, 16) => dmvpn_esp::Encryption::AesGcm16,
        _ => return None,
    };
    let integrity = match integrity {
        IkeIntegrity::None => dmvpn_esp::Integrity::None,
        IkeIntegrity::HmacMd5_96 => dmvpn_esp::Integrity::HmacMd5_96,
        IkeIntegrity::HmacSha1_96 => dmvpn_esp::Integrity::HmacSha1_96,
        IkeIntegrity::HmacSha256_128 => dmvpn_esp::Integrity::HmacSha256_128,
        IkeIntegrity::HmacSha384_192 => dmvpn_esp::Integrity::HmacSha384_192,
        IkeIntegrity::HmacSha512_256 => dmvpn_esp::Integrity::HmacSha512_256,
        _ => return None,
    };
    let sa = |spi: u32, enc: &[u8], integ: &[u8]| {
        let mut sa = EspSa::new(
            AddressFamily::Any,
            AddrPattern::Any,
            AddrPattern::Any,
            SpiPattern::one(spi),
            encryption,
            SecretBytes::from_slice(enc),
            integrity,
            SecretBytes::from_slice(integ),
        )
        .ok()?;
        sa.esn = esn;
        Some(sa)
    };
    let [initiator_spi, responder_spi] = child.spis;
    Some([
        sa(
            responder_spi,
            keys.encryption_i.as_bytes(),
            keys.integrity_i.as_bytes(),
        )?,
        sa(
            initiator_spi,
            keys.encryption_r.as_bytes(),
            keys.integrity_r.as_bytes(),
        )?,
    ])
}
