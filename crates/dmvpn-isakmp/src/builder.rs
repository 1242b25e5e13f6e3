//! Building messages: a payload chain from [`Body`] reprs (RFC 2408 §3.2), the proposal and
//! transform chain of an SA payload (§3.4–3.6) and its data attributes (§3.3), then the header
//! around the chain, in clear or CBC-encrypted (RFC 2409 Appendix B).
//!
//! Each [`Chain::push`] emits its payload at once and patches the previous payload's next-payload
//! field, so a chain is always well formed and [`Chain::as_bytes`] is what a HASH covers (Quick
//! Mode and Informational hash the chain *behind* the HASH payload: [`Chain::behind`]).
//!
//! ```
//! use dmvpn_isakmp::builder::{Builder, Chain};
//! use dmvpn_isakmp::consts::ExchangeType;
//! use dmvpn_isakmp::{Body, Flags, Message, PayloadType};
//!
//! let mut chain = Chain::new();
//! chain
//!     .push(PayloadType::NONCE, &Body::Nonce(&[7; 16]))
//!     .push(PayloadType::VENDOR_ID, &Body::VendorId(b"dmvpn"));
//! let header = Builder::new([1; 8], [2; 8], ExchangeType::INFORMATIONAL, Flags(0), 9);
//! let bytes = header.to_vec(&chain)?;
//! let message = Message::parse(&bytes)?;
//! assert_eq!((message.header.length, message.header.message_id), (28 + 20 + 9, 9));
//! let types: Vec<_> = message.payloads().unwrap().map(|p| p.map(|p| p.ty)).collect::<Result<_, _>>()?;
//! assert_eq!(types, [PayloadType::NONCE, PayloadType::VENDOR_ID]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec::Vec;

use dmvpn_wire::{Error, Layer};

use crate::attribute::{Attribute, Value};
use crate::consts::{ExchangeType, PayloadType, ProtocolId};
use crate::crypto::{Cipher, DecryptError, encrypt};
use crate::header::{Flags, HEADER_LEN, Header, Packet, VERSION_1_0};
use crate::payload::{Body, GENERIC_HEADER_LEN};
use crate::sa::{Proposal, Transform};

/// Why a message could not be built.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A payload or the message does not fit its length field.
    #[error(transparent)]
    Length(#[from] Error),
    /// The cipher refused the key or IV.
    #[error(transparent)]
    Cipher(#[from] DecryptError),
}

/// A payload chain under construction (see the [module](self) documentation).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Chain {
    bytes: Vec<u8>,
    first: PayloadType,
    /// Offset of the last payload's next-payload field.
    last_next: Option<usize>,
    /// The first payload that did not fit its 16-bit length (it was left out).
    error: Option<Error>,
}

impl Chain {
    /// An empty chain: its first payload is NONE.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a payload of type `ty` carrying `body`. A payload longer than 65535 bytes is left
    /// out and remembered as the chain's [`Chain::error`].
    pub fn push(&mut self, ty: PayloadType, body: &Body<'_>) -> &mut Self {
        let len = GENERIC_HEADER_LEN + body.buffer_len();
        let Ok(wire_len) = u16::try_from(len) else {
            self.error.get_or_insert(Error::bad_length(
                Layer::Isakmp,
                "payload length",
                HEADER_LEN + self.bytes.len() + 2,
                len,
                usize::from(u16::MAX),
            ));
            return self;
        };
        match self.last_next {
            Some(at) => self.bytes[at] = ty.0,
            None => self.first = ty,
        }
        let at = self.bytes.len();
        self.last_next = Some(at);
        self.bytes.resize(at + len, 0);
        self.bytes[at + 2..at + 4].copy_from_slice(&wire_len.to_be_bytes());
        body.emit(&mut self.bytes[at + GENERIC_HEADER_LEN..]);
        self
    }

    /// A new chain: a payload of type `ty` carrying `body`, then this chain.
    #[must_use]
    pub fn behind(&self, ty: PayloadType, body: &Body<'_>) -> Self {
        let mut out = Self::new();
        out.push(ty, body);
        let Some(at) = out.last_next else {
            return out;
        };
        if self.last_next.is_some() {
            out.bytes[at] = self.first.0;
            out.last_next = self.last_next.map(|next| next + out.bytes.len());
            out.bytes.extend_from_slice(&self.bytes);
        }
        out.error = out.error.or_else(|| self.error.clone());
        out
    }

    /// The type of the first payload (NONE when empty): the header's next payload.
    #[must_use]
    pub const fn first(&self) -> PayloadType {
        self.first
    }

    /// The chain's bytes: every payload with its generic header.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes of the chain.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the chain holds no payload.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The first payload that was too long to push, if any.
    #[must_use]
    pub const fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    fn check(&self) -> Result<(), Error> {
        self.error.clone().map_or(Ok(()), Err)
    }
}

/// The header fields of a message to build; next payload, version and length come from the chain.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Builder {
    /// Initiator cookie (CKY-I).
    pub initiator_cookie: [u8; 8],
    /// Responder cookie (CKY-R).
    pub responder_cookie: [u8; 8],
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags; [`Builder::seal`] adds the E bit.
    pub flags: Flags,
    /// Message ID.
    pub message_id: u32,
}

impl Builder {
    /// The header fields of one message.
    #[must_use]
    pub const fn new(
        initiator_cookie: [u8; 8],
        responder_cookie: [u8; 8],
        exchange_type: ExchangeType,
        flags: Flags,
        message_id: u32,
    ) -> Self {
        Self {
            initiator_cookie,
            responder_cookie,
            exchange_type,
            flags,
            message_id,
        }
    }

    /// The header for a body of `body_len` bytes whose first payload is `first`.
    fn header(&self, first: PayloadType, flags: Flags, body_len: usize) -> Result<Header, Error> {
        let len = HEADER_LEN + body_len;
        let length = u32::try_from(len)
            .map_err(|_| Error::bad_length(Layer::Isakmp, "length", 24, len, u32::MAX as usize))?;
        Ok(Header {
            initiator_cookie: self.initiator_cookie,
            responder_cookie: self.responder_cookie,
            next_payload: first,
            version: VERSION_1_0,
            exchange_type: self.exchange_type,
            flags,
            message_id: self.message_id,
            length,
        })
    }

    /// Bytes [`Builder::emit`] writes for `chain`.
    #[must_use]
    pub fn buffer_len(&self, chain: &Chain) -> usize {
        HEADER_LEN + chain.len()
    }

    /// Writes the header and `chain` in clear into `buf` (at least [`Builder::buffer_len`] bytes);
    /// returns the bytes written.
    pub fn emit(&self, chain: &Chain, buf: &mut [u8]) -> Result<usize, Error> {
        chain.check()?;
        let len = self.buffer_len(chain);
        dmvpn_wire::check_fields!(Layer::Isakmp, buf.len(), [("payload", 0..len)]);
        let header = self.header(chain.first, self.flags, chain.len())?;
        header.emit(&mut Packet::new_unchecked(&mut buf[..HEADER_LEN]));
        buf[HEADER_LEN..len].copy_from_slice(&chain.bytes);
        Ok(len)
    }

    /// The message in clear.
    pub fn to_vec(&self, chain: &Chain) -> Result<Vec<u8>, Error> {
        let mut out = alloc::vec![0; self.buffer_len(chain)];
        self.emit(chain, &mut out)?;
        Ok(out)
    }

    /// The message with the E flag set and `chain` encrypted under `key` and `iv`. RFC 2409
    /// Appendix B pads with zeros to the block and leaves the amount open; like strongSwan this
    /// always adds 1 to `block` bytes, so a block-aligned chain gets a whole block of padding.
    /// The next IV is the last block of the result.
    pub fn seal(
        &self,
        chain: &Chain,
        cipher: Cipher,
        key: &[u8],
        iv: &[u8],
    ) -> Result<Vec<u8>, BuildError> {
        chain.check()?;
        let block = cipher.block_len();
        let mut padded = chain.bytes.clone();
        padded.resize(chain.len() + block - chain.len() % block, 0);
        let ciphertext = encrypt(cipher, key, iv, &padded)?;
        let header = self.header(
            chain.first,
            Flags(self.flags.0 | Flags::ENCRYPTION),
            ciphertext.len(),
        )?;
        let mut out = alloc::vec![0; HEADER_LEN];
        header.emit(&mut Packet::new_unchecked(&mut out[..]));
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }
}

/// A data attribute list (RFC 2408 §3.3) under construction, for a transform.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct AttributeList(Vec<u8>);

impl AttributeList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `attribute`. A variable value longer than 65535 bytes is cut to 65535 (no IKEv1
    /// attribute comes near that).
    pub fn push(&mut self, attribute: Attribute<'_>) -> &mut Self {
        let attribute = match attribute.value {
            Value::Variable(value) if value.len() > usize::from(u16::MAX) => Attribute {
                ty: attribute.ty,
                value: Value::Variable(&value[..usize::from(u16::MAX)]),
            },
            _ => attribute,
        };
        let at = self.0.len();
        self.0.resize(at + attribute.buffer_len(), 0);
        attribute.emit(&mut self.0[at..]);
        self
    }

    /// A basic (TV) attribute.
    pub fn basic(&mut self, ty: u16, value: u16) -> &mut Self {
        self.push(Attribute {
            ty,
            value: Value::Basic(value),
        })
    }

    /// A duration or other number: TV when it fits in 16 bits (as strongSwan sends it), else a
    /// 4-byte TLV (as IOS sends 86400), or 8 bytes past 32 bits.
    pub fn number(&mut self, ty: u16, value: u64) -> &mut Self {
        if let Ok(small) = u16::try_from(value) {
            return self.basic(ty, small);
        }
        let wide = value.to_be_bytes();
        let bytes = if value > u64::from(u32::MAX) {
            &wide[..]
        } else {
            &wide[4..]
        };
        self.push(Attribute {
            ty,
            value: Value::Variable(bytes),
        })
    }

    /// The attributes as on the wire.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// One proposal to build: its header fields and its transforms (whose `offset` is ignored).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct ProposalSpec<'a> {
    /// Proposal number.
    pub number: u8,
    /// Protocol.
    pub protocol: ProtocolId,
    /// SPI (empty in phase 1).
    pub spi: &'a [u8],
    /// The transforms, in order.
    pub transforms: &'a [Transform<'a>],
}

/// The proposal chain of an SA payload (the [`crate::sa::Sa::proposals`] bytes): each proposal
/// with its transform chain, next-payload fields set (2, 3, or 0 on the last) and lengths filled.
#[must_use]
pub fn proposal_chain(proposals: &[ProposalSpec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (p, spec) in proposals.iter().enumerate() {
        let mut transforms = Vec::new();
        for (t, transform) in spec.transforms.iter().enumerate() {
            let at = transforms.len();
            transforms.resize(at + transform.buffer_len(), 0);
            transform.emit(&mut transforms[at..], t + 1 == spec.transforms.len());
        }
        let proposal = Proposal {
            number: spec.number,
            protocol: spec.protocol,
            spi: spec.spi,
            num_transforms: u8::try_from(spec.transforms.len()).unwrap_or(u8::MAX),
            transforms: &transforms,
            offset: 0,
        };
        let at = out.len();
        out.resize(at + proposal.buffer_len(), 0);
        proposal.emit(&mut out[at..], p + 1 == proposals.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::consts::{Doi, NotifyType, situation};
    use crate::crypto::decrypt;
    // packetlife ISAKMP_sa_setup.cap frame 2 (Cisco IOS Main Mode 2: SA + NAT-T vendor ID).
    use crate::header::tests::MM2 as IOS_MM2;
    use crate::message::Message;
    use crate::payload::{Context, Notify, Payloads};
    use crate::sa::Sa;

    /// Rebuilds a plaintext message from its parsed header and decoded payloads.
    fn rebuild(bytes: &[u8]) -> Vec<u8> {
        let message = Message::parse(bytes).unwrap();
        let context = message.context(None);
        let mut chain = Chain::new();
        for payload in message.payloads().unwrap() {
            let payload = payload.unwrap();
            chain.push(payload.ty, &payload.decode(context).unwrap());
        }
        let h = message.header;
        Builder::new(
            h.initiator_cookie,
            h.responder_cookie,
            h.exchange_type,
            h.flags,
            h.message_id,
        )
        .to_vec(&chain)
        .unwrap()
    }

    #[test]
    fn ios_main_mode_2_rebuilds_byte_for_byte() {
        assert_eq!(rebuild(&IOS_MM2), IOS_MM2);
    }

    #[test]
    fn sa_from_specs_is_ios_sa() {
        // The same SA payload from its parts: one ISAKMP proposal, one KEY_IKE transform.
        let mut attributes = AttributeList::new();
        attributes
            .basic(1, 7)
            .basic(14, 128)
            .basic(2, 2)
            .basic(4, 1)
            .basic(3, 1)
            .basic(11, 1)
            .number(12, 86_400);
        let transforms = [Transform {
            number: 1,
            id: 1,
            reserved: 0,
            attributes: attributes.as_bytes(),
            offset: 0,
        }];
        let proposals = proposal_chain(&[ProposalSpec {
            number: 1,
            protocol: ProtocolId::ISAKMP,
            spi: &[],
            transforms: &transforms,
        }]);
        let sa = Sa {
            doi: Doi::IPSEC,
            situation: situation::IDENTITY_ONLY,
            proposals: &proposals,
            offset: 0,
        };
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &Body::Sa(sa))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&IOS_MM2[92..]));
        assert_eq!(chain.first(), PayloadType::SA);
        assert_eq!(chain.as_bytes(), &IOS_MM2[28..]);
    }

    #[test]
    fn two_proposals_link_and_count_their_transforms() {
        let attributes = [0x80, 0x04, 0x00, 0x02];
        let transform = |number| Transform {
            number,
            id: 3,
            reserved: 0,
            attributes: &attributes,
            offset: 0,
        };
        let (one, two) = ([transform(1)], [transform(1), transform(2)]);
        let bytes = proposal_chain(&[
            ProposalSpec {
                number: 1,
                protocol: ProtocolId::ESP,
                spi: &[1, 2, 3, 4],
                transforms: &one,
            },
            ProposalSpec {
                number: 2,
                protocol: ProtocolId::ESP,
                spi: &[5, 6, 7, 8],
                transforms: &two,
            },
        ]);
        let sa = Sa {
            doi: Doi::IPSEC,
            situation: 1,
            proposals: &bytes,
            offset: 0,
        };
        sa.check().unwrap();
        let counts: Vec<(u8, usize, Option<u32>)> = sa
            .proposals()
            .map(|p| {
                let p = p.unwrap();
                (p.number, p.transforms().count(), p.spi_u32())
            })
            .collect();
        assert_eq!(
            counts,
            [(1, 1, Some(0x0102_0304)), (2, 2, Some(0x0506_0708))]
        );
    }

    #[test]
    fn behind_puts_a_payload_first() {
        let mut chain = Chain::new();
        chain
            .push(PayloadType::NONCE, &Body::Nonce(&[1; 20]))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&[2; 16]));
        let hashed = chain.behind(PayloadType::HASH, &Body::Hash(&[9; 20]));
        assert_eq!(hashed.first(), PayloadType::HASH);
        assert_eq!(&hashed.as_bytes()[24..], chain.as_bytes());
        let types: Vec<PayloadType> = Payloads::new(hashed.first(), hashed.as_bytes(), 0)
            .map(|p| p.unwrap().ty)
            .collect();
        assert_eq!(
            types,
            [
                PayloadType::HASH,
                PayloadType::NONCE,
                PayloadType::VENDOR_ID
            ]
        );
        // Pushing onto the result still links from the last payload.
        let mut more = hashed;
        more.push(PayloadType::KE, &Body::Ke(&[3; 8]));
        assert_eq!(Payloads::new(more.first(), more.as_bytes(), 0).count(), 4);
        // Behind an empty chain: the one payload alone.
        let alone = Chain::new().behind(PayloadType::HASH, &Body::Hash(&[9; 20]));
        assert_eq!(alone.as_bytes()[0], 0);
        assert_eq!(alone.len(), 24);
    }

    #[test]
    fn empty_chain_is_a_bare_header() {
        let chain = Chain::new();
        assert!(chain.is_empty());
        let bytes = Builder::new([1; 8], [0; 8], ExchangeType::INFORMATIONAL, Flags(0), 0)
            .to_vec(&chain)
            .unwrap();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(bytes[16], 0);
        Message::parse(&bytes).unwrap().check().unwrap();
    }

    #[test]
    fn oversized_payload_is_an_error_not_a_wrong_length() {
        let big = vec![0; 70_000];
        let mut chain = Chain::new();
        chain
            .push(PayloadType::NONCE, &Body::Nonce(&[1; 8]))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&big));
        let expected = Error::bad_length(
            Layer::Isakmp,
            "payload length",
            HEADER_LEN + 12 + 2,
            70_004,
            65_535,
        );
        assert_eq!(chain.error(), Some(&expected));
        assert_eq!(chain.len(), 12, "the oversized payload is left out");
        let builder = Builder::new([1; 8], [2; 8], ExchangeType::AGGRESSIVE, Flags(0), 0);
        assert_eq!(builder.to_vec(&chain), Err(expected.clone()));
        assert_eq!(
            builder.seal(&chain, Cipher::Aes128, &[0; 16], &[0; 16]),
            Err(BuildError::Length(expected.clone()))
        );
        assert_eq!(
            chain
                .behind(PayloadType::HASH, &Body::Hash(&[0; 20]))
                .error(),
            Some(&expected)
        );
        let mut short = [0; 10];
        assert_eq!(
            builder.emit(&Chain::new(), &mut short),
            Err(Error::truncated(Layer::Isakmp, "payload", 0, 28, 10))
        );
    }

    #[test]
    fn sealed_messages_pad_a_whole_block_and_decrypt() {
        let notify = Notify {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ISAKMP,
            ty: NotifyType::R_U_THERE,
            spi: &[7; 16],
            data: &[0, 0, 0, 5],
            data_offset: 0,
        };
        let (key, iv) = ([3; 16], [4; 16]);
        for hash_len in [20, 24, 36] {
            let hash = vec![9; hash_len];
            let mut chain = Chain::new();
            chain.push(PayloadType::NOTIFY, &Body::Notify(notify));
            let chain = chain.behind(PayloadType::HASH, &Body::Hash(&hash));
            let builder = Builder::new([1; 8], [2; 8], ExchangeType::INFORMATIONAL, Flags(0), 77);
            let bytes = builder.seal(&chain, Cipher::Aes128, &key, &iv).unwrap();
            let message = Message::parse(&bytes).unwrap();
            assert!(message.is_encrypted());
            assert_eq!(message.header.next_payload, PayloadType::HASH);
            let padding = 16 - chain.len() % 16;
            assert_eq!(message.body.len(), chain.len() + padding);
            let plain = decrypt(Cipher::Aes128, &key, &iv, message.body).unwrap();
            assert_eq!(&plain[..chain.len()], chain.as_bytes());
            assert!(plain[chain.len()..].iter().all(|&b| b == 0));
            let mut payloads = Payloads::decrypted(PayloadType::HASH, &plain, HEADER_LEN);
            assert_eq!(payloads.next().unwrap().unwrap().body, &hash[..]);
            let payload = payloads.next().unwrap().unwrap();
            let body = payload.decode(Context::new(ExchangeType::INFORMATIONAL));
            assert!(
                matches!(body, Ok(Body::Notify(n)) if n.dpd_sequence() == Some(5)),
                "{body:?}"
            );
        }
        let err = Builder::new([1; 8], [2; 8], ExchangeType::INFORMATIONAL, Flags(0), 0)
            .seal(&Chain::new(), Cipher::Aes128, &[0; 3], &[0; 16])
            .unwrap_err();
        assert!(matches!(err, BuildError::Cipher(_)), "{err}");
    }

    #[test]
    fn attribute_numbers_pick_their_form() {
        let mut a = AttributeList::new();
        a.number(12, 3600).number(12, 86_400).number(12, 1 << 40);
        assert_eq!(
            a.as_bytes(),
            [
                0x80, 12, 0x0e, 0x10, 0, 12, 0, 4, 0, 1, 0x51, 0x80, 0, 12, 0, 8, 0, 0, 1, 0, 0, 0,
                0, 0
            ]
        );
    }

    #[test]
    fn arbitrary_chains_build_and_parse_back() {
        // Any list of payloads (type, body bytes) survives build → parse unchanged, in clear
        // and sealed.
        bolero::check!()
            .with_type::<(u8, Vec<(u8, Vec<u8>)>)>()
            .for_each(|(exchange, payloads)| {
                let mut chain = Chain::new();
                // Type 0 (NONE) would end the chain early: it is not a payload type.
                let payloads: Vec<(u8, Vec<u8>)> = payloads
                    .iter()
                    .map(|(ty, v)| ((*ty).max(1), v.clone()))
                    .collect();
                for (ty, value) in &payloads {
                    let body = Body::Unknown {
                        ty: PayloadType(*ty),
                        value,
                    };
                    chain.push(PayloadType(*ty), &body);
                }
                let builder =
                    Builder::new([5; 8], [6; 8], ExchangeType(*exchange), Flags(0), 0x1234);
                let bytes = builder.to_vec(&chain).unwrap();
                let message = Message::parse(&bytes).unwrap();
                let parsed: Vec<(u8, Vec<u8>)> = message
                    .payloads()
                    .unwrap()
                    .map(|p| {
                        let p = p.unwrap();
                        (p.ty.0, p.body.to_vec())
                    })
                    .collect();
                assert_eq!(parsed, payloads);
                let sealed = builder
                    .seal(&chain, Cipher::TripleDes, &[8; 24], &[1; 8])
                    .unwrap();
                let message = Message::parse(&sealed).unwrap();
                let plain = decrypt(Cipher::TripleDes, &[8; 24], &[1; 8], message.body).unwrap();
                assert_eq!(&plain[..chain.len()], chain.as_bytes());
            });
    }
}
