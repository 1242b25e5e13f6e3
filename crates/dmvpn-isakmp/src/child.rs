//! Quick Mode child SAs: the ESP / AH keys of every Quick Mode, derived from SKEYID_d (RFC 2409 §5.5).
//!
//! [`crate::crypto::IkeSaState`] collects, per message ID, the SA, NONCE and KE payloads of the
//! decrypted Quick Mode messages; once the responder's reply is seen and SKEYID_d is known it derives
//! one [`ChildSa`] per SPI: KEYMAT with the SPI the *receiving* side chose, split into the encryption
//! key (first) and the integrity key.

use alloc::vec::Vec;
use core::fmt;

use crate::attribute::Attributes;
use crate::consts::{
    AuthAlgorithm, EncapsulationMode, EspTransformId, IpsecAttributeType, ProtocolId,
};
use crate::keys::{Prf, Secret, keymat};
use crate::sa::Sa;

/// The algorithms of a negotiated IPsec transform (RFC 2407 §4.4.4, §4.5).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct IpsecTransform {
    /// Protocol (ESP, AH).
    pub protocol: ProtocolId,
    /// Transform ID (for ESP an [`EspTransformId`]; for AH an AH transform ID).
    pub id: u8,
    /// Key length attribute in bits, if present.
    pub key_bits: Option<u16>,
    /// Authentication algorithm attribute.
    pub auth: Option<AuthAlgorithm>,
    /// Encapsulation mode attribute.
    pub encapsulation: Option<EncapsulationMode>,
    /// PFS group attribute.
    pub pfs_group: Option<u16>,
    /// SA lifetime in seconds, if given.
    pub life_seconds: Option<u64>,
}

impl IpsecTransform {
    /// Reads the attributes of a transform of `protocol`.
    #[must_use]
    pub fn from_attributes(protocol: ProtocolId, id: u8, attributes: Attributes<'_>) -> Self {
        let mut transform = Self {
            protocol,
            id,
            ..Self::default()
        };
        let mut seconds = false;
        for attribute in attributes.map_while(Result::ok) {
            let value = attribute.as_u16();
            match IpsecAttributeType(attribute.ty) {
                IpsecAttributeType::KEY_LENGTH => transform.key_bits = value,
                IpsecAttributeType::AUTH_ALGORITHM => transform.auth = value.map(AuthAlgorithm),
                IpsecAttributeType::ENCAPSULATION_MODE => {
                    transform.encapsulation = value.map(EncapsulationMode)
                }
                IpsecAttributeType::GROUP_DESCRIPTION => transform.pfs_group = value,
                IpsecAttributeType::LIFE_TYPE => seconds = value == Some(1),
                IpsecAttributeType::LIFE_DURATION if seconds => {
                    transform.life_seconds = attribute.as_u64()
                }
                _ => {}
            }
        }
        transform
    }

    /// Encryption key bytes taken from KEYMAT (salt / nonce bytes of CTR, CCM and GCM included).
    #[must_use]
    pub fn encryption_key_len(&self) -> Option<usize> {
        if self.protocol == ProtocolId::AH {
            return Some(0);
        }
        let bits = usize::from(self.key_bits.unwrap_or(128));
        Some(match EspTransformId(self.id) {
            EspTransformId::NULL => 0,
            EspTransformId::DES | EspTransformId::DES_IV64 | EspTransformId::DES_IV32 => 8,
            EspTransformId::TRIPLE_DES => 24,
            EspTransformId::AES_CBC => bits / 8,
            EspTransformId::AES_CTR
            | EspTransformId::AES_GCM_8
            | EspTransformId::AES_GCM_12
            | EspTransformId::AES_GCM_16
            | EspTransformId::NULL_AUTH_AES_GMAC => bits / 8 + 4,
            EspTransformId::AES_CCM_8 | EspTransformId::AES_CCM_12 | EspTransformId::AES_CCM_16 => {
                bits / 8 + 3
            }
            _ => return None,
        })
    }

    /// Integrity key bytes taken from KEYMAT after the encryption key.
    #[must_use]
    pub fn integrity_key_len(&self) -> Option<usize> {
        let auth = match (self.protocol, self.auth) {
            (_, Some(auth)) => auth,
            (ProtocolId::AH, None) => return None,
            (_, None) => return Some(0),
        };
        Some(match auth {
            AuthAlgorithm::HMAC_MD5 | AuthAlgorithm::AES_XCBC_MAC => 16,
            AuthAlgorithm::HMAC_SHA1 => 20,
            AuthAlgorithm::HMAC_SHA2_256 => 32,
            AuthAlgorithm::HMAC_SHA2_384 => 48,
            AuthAlgorithm::HMAC_SHA2_512 => 64,
            _ => return None,
        })
    }

    /// The names Wireshark's `esp_sa` table uses for this transform: (encryption, authentication).
    #[must_use]
    pub fn wireshark_names(&self) -> Option<(&'static str, &'static str)> {
        let encryption = match EspTransformId(self.id) {
            EspTransformId::NULL => "NULL",
            EspTransformId::DES => "DES-CBC [RFC2405]",
            EspTransformId::TRIPLE_DES => "TripleDES-CBC [RFC2451]",
            EspTransformId::AES_CBC => "AES-CBC [RFC3602]",
            EspTransformId::AES_CTR => "AES-CTR [RFC3686]",
            EspTransformId::AES_GCM_8 => "AES-GCM with 8 octet ICV [RFC4106]",
            EspTransformId::AES_GCM_12 => "AES-GCM with 12 octet ICV [RFC4106]",
            EspTransformId::AES_GCM_16 => "AES-GCM with 16 octet ICV [RFC4106]",
            _ => return None,
        };
        let auth = match self.auth {
            None => "NULL",
            Some(AuthAlgorithm::HMAC_MD5) => "HMAC-MD5-96 [RFC2403]",
            Some(AuthAlgorithm::HMAC_SHA1) => "HMAC-SHA-1-96 [RFC2404]",
            Some(AuthAlgorithm::HMAC_SHA2_256) => "HMAC-SHA-256-128 [RFC4868]",
            Some(AuthAlgorithm::HMAC_SHA2_384) => "HMAC-SHA-384-192 [RFC4868]",
            Some(AuthAlgorithm::HMAC_SHA2_512) => "HMAC-SHA-512-256 [RFC4868]",
            Some(_) => return None,
        };
        Some((encryption, auth))
    }
}

/// One derived IPsec SA.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ChildSa {
    /// Message ID of the Quick Mode that created it.
    pub message_id: u32,
    /// The SPI.
    pub spi: u32,
    /// Whether the Quick Mode initiator chose this SPI, i.e. the SA carries traffic *to* the
    /// initiator (responder → initiator). Otherwise it carries initiator → responder traffic.
    pub chosen_by_initiator: bool,
    /// The negotiated transform.
    pub transform: IpsecTransform,
    /// Encryption key (salt included for CTR/CCM/GCM).
    pub encryption_key: Secret,
    /// Integrity key.
    pub integrity_key: Secret,
}

impl fmt::Display for ChildSa {
    /// One line without key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spi={:#010x} {} mid={:#010x}",
            self.transform.protocol,
            self.spi,
            if self.chosen_by_initiator {
                "responder->initiator"
            } else {
                "initiator->responder"
            },
            self.message_id
        )?;
        if let Some((enc, auth)) = self.transform.wireshark_names() {
            write!(f, " {enc} / {auth}")?;
        }
        Ok(())
    }
}

/// What one Quick Mode exchange has carried so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct QuickModeState {
    pub(crate) message_id: u32,
    /// Initiator's proposals: (proposal number, protocol, SPI).
    pub(crate) offered: Vec<(u8, ProtocolId, u32)>,
    /// Responder's choice: (proposal number, protocol, SPI, transform).
    pub(crate) chosen: Vec<(u8, ProtocolId, u32, IpsecTransform)>,
    pub(crate) nonces: Vec<Vec<u8>>,
    pub(crate) ke: usize,
    pub(crate) derived: bool,
}

impl QuickModeState {
    /// Records the SA payload of the initiator (first) or the responder (second).
    pub(crate) fn record_sa(&mut self, sa: &Sa<'_>) {
        let first = self.offered.is_empty();
        for proposal in sa.proposals().map_while(Result::ok) {
            let Some(spi) = proposal.spi_u32() else {
                continue;
            };
            if first {
                self.offered.push((proposal.number, proposal.protocol, spi));
            } else if let Some(Ok(transform)) = proposal.transforms().next() {
                let transform = IpsecTransform::from_attributes(
                    proposal.protocol,
                    transform.id,
                    transform.attributes(),
                );
                self.chosen
                    .push((proposal.number, proposal.protocol, spi, transform));
            }
        }
    }

    /// Derives the child SAs once both nonces and the responder's choice are known. PFS Quick Modes
    /// (KE payloads) need `g_qm`, the padded Quick Mode DH secret; without it they yield nothing.
    pub(crate) fn derive(
        &mut self,
        prf: Prf,
        skeyid_d: &Secret,
        g_qm: Option<&[u8]>,
    ) -> Vec<ChildSa> {
        let mut out = Vec::new();
        if self.derived
            || self.nonces.len() < 2
            || self.chosen.is_empty()
            || (self.ke > 0 && g_qm.is_none())
        {
            return out;
        }
        self.derived = true;
        let g_qm = if self.ke > 0 { g_qm } else { None };
        for &(number, protocol, spi_r, transform) in &self.chosen {
            let (Some(enc_len), Some(int_len)) = (
                transform.encryption_key_len(),
                transform.integrity_key_len(),
            ) else {
                continue;
            };
            let spi_i = self
                .offered
                .iter()
                .find(|o| o.0 == number && o.1 == protocol)
                .or_else(|| self.offered.iter().find(|o| o.1 == protocol))
                .map(|o| o.2);
            let mut spis = alloc::vec![(spi_r, false)];
            if let Some(spi_i) = spi_i {
                spis.push((spi_i, true));
            }
            for (spi, chosen_by_initiator) in spis {
                let material = keymat(
                    prf,
                    skeyid_d,
                    protocol.0,
                    spi,
                    &self.nonces[0],
                    &self.nonces[1],
                    g_qm,
                    enc_len + int_len,
                );
                let bytes = material.as_bytes();
                out.push(ChildSa {
                    message_id: self.message_id,
                    spi,
                    chosen_by_initiator,
                    transform,
                    encryption_key: Secret::from_slice(&bytes[..enc_len]),
                    integrity_key: Secret::from_slice(&bytes[enc_len..]),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn key_lengths_and_names() {
        let key_lens = |t: &IpsecTransform| (t.encryption_key_len(), t.integrity_key_len());
        let t = IpsecTransform {
            protocol: ProtocolId::ESP,
            id: EspTransformId::AES_CBC.0,
            key_bits: Some(256),
            auth: Some(AuthAlgorithm::HMAC_SHA2_256),
            ..IpsecTransform::default()
        };
        assert_eq!(key_lens(&t), (Some(32), Some(32)));
        assert_eq!(
            t.wireshark_names(),
            Some(("AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"))
        );
        let gcm = IpsecTransform {
            id: EspTransformId::AES_GCM_16.0,
            auth: None,
            ..t
        };
        assert_eq!(key_lens(&gcm), (Some(36), Some(0)));
        let tdes = IpsecTransform {
            id: EspTransformId::TRIPLE_DES.0,
            key_bits: None,
            auth: Some(AuthAlgorithm::HMAC_MD5),
            ..t
        };
        assert_eq!(key_lens(&tdes), (Some(24), Some(16)));
        let null = IpsecTransform {
            id: EspTransformId::NULL.0,
            ..tdes
        };
        assert_eq!(null.encryption_key_len(), Some(0));
        let unknown = IpsecTransform { id: 200, ..t };
        assert_eq!(unknown.encryption_key_len(), None);
        let sa = ChildSa {
            message_id: 1,
            spi: 0x0708_83c2,
            chosen_by_initiator: false,
            transform: t,
            encryption_key: Secret::default(),
            integrity_key: Secret::default(),
        };
        assert_eq!(
            sa.to_string(),
            "ESP (3) spi=0x070883c2 initiator->responder mid=0x00000001 AES-CBC [RFC3602] / HMAC-SHA-256-128 [RFC4868]"
        );
    }
}
