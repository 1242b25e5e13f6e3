//! A whole ISAKMP message: header plus payload chain, with a one-line summary.

use alloc::vec::Vec;
use core::fmt;

use dmvpn_wire::fmt::Hex;
use dmvpn_wire::{Error, Layer, Result};

use crate::consts::PayloadType;
use crate::header::{HEADER_LEN, Header, Packet};
use crate::payload::{Body, Context, Payloads};
use crate::vendor;

/// A parsed ISAKMP message. The payload chain stays borrowed; walk it with [`Message::payloads`]
/// (plaintext) or decrypt [`Message::body`] first (see [`crate::crypto::IkeSaState`]).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Message<'a> {
    /// The header.
    pub header: Header,
    /// Everything after the header up to `length`: the payload chain, or the ciphertext.
    pub body: &'a [u8],
}

impl<'a> Message<'a> {
    /// Parses one message that fills `bytes` exactly (a UDP/500 payload, or UDP/4500 after the
    /// non-ESP marker). Bytes after `length` are [`Error::TrailingBytes`]. The payload chain is not
    /// walked here: call [`Message::check`] for that.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let packet = Packet::new_checked(bytes)?;
        let header = Header::parse(&packet)?;
        let body = packet.payload();
        if bytes.len() > header.length as usize {
            return Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: header.length as usize,
                len: bytes.len() - header.length as usize,
            });
        }
        Ok(Self { header, body })
    }

    /// Parses one message at the start of `bytes`, returning it and whatever follows its `length`
    /// (empty when the message fills `bytes`). For analysers that show a message followed by junk
    /// (tcpdump and tshark do) instead of refusing it; [`Message::parse`] is the strict form.
    ///
    /// ```
    /// use dmvpn_isakmp::Message;
    ///
    /// // A 28-byte Informational header with no payload, then 3 bytes that are not part of it.
    /// let mut bytes = vec![0x11; 16];
    /// bytes.extend_from_slice(&[0, 0x10, 5, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0xde, 0xad, 0xbe]);
    /// assert!(Message::parse(&bytes).is_err());
    /// let (message, trailer) = Message::parse_trailing(&bytes)?;
    /// assert_eq!((message.header.length, trailer), (28, &[0xde, 0xad, 0xbe][..]));
    /// # Ok::<(), dmvpn_isakmp::Error>(())
    /// ```
    pub fn parse_trailing(bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let packet = Packet::new_checked(bytes)?;
        let header = Header::parse(&packet)?;
        let trailer = bytes.get(header.length as usize..).unwrap_or_default();
        Ok((
            Self {
                header,
                body: packet.payload(),
            },
            trailer,
        ))
    }

    /// The plaintext payload chain, ending at the payload whose next payload is NONE even when
    /// bytes follow it inside `length` (see [`Message::chain_trailer`]); `None` if encrypted.
    #[must_use]
    pub const fn payloads_lenient(&self) -> Option<Payloads<'a>> {
        self.plaintext_chain(true)
    }

    /// Bytes inside `length` after the last payload of a plaintext chain that is otherwise well
    /// formed: their offset in the message and the bytes. `None` when the chain ends exactly at
    /// `length`, the message is encrypted, or a payload header fails before the chain ends (that
    /// error is what [`Message::payloads`] yields).
    #[must_use]
    pub fn chain_trailer(&self) -> Option<(usize, &'a [u8])> {
        let mut payloads = self.payloads_lenient()?;
        for payload in payloads.by_ref() {
            payload.ok()?;
        }
        let trailer = payloads.padding();
        (!trailer.is_empty()).then(|| (HEADER_LEN + self.body.len() - trailer.len(), trailer))
    }

    /// Whether the body is encrypted (the E flag).
    #[must_use]
    pub const fn is_encrypted(&self) -> bool {
        self.header.flags.encryption()
    }

    /// The plaintext payload chain, or `None` if the body is encrypted.
    #[must_use]
    pub const fn payloads(&self) -> Option<Payloads<'a>> {
        self.plaintext_chain(false)
    }

    /// The plaintext chain, bytes after its last payload allowed when `lenient`; `None` if
    /// encrypted.
    const fn plaintext_chain(&self, lenient: bool) -> Option<Payloads<'a>> {
        if self.is_encrypted() {
            None
        } else {
            Some(Payloads::with_padding(
                self.header.next_payload,
                self.body,
                HEADER_LEN,
                lenient,
            ))
        }
    }

    /// The decoding context of this message, learning NAT-T vendor IDs from its own payloads on top
    /// of `known` (the NAT-D type agreed earlier in the exchange, if any).
    #[must_use]
    pub fn context(&self, known: Option<PayloadType>) -> Context {
        let mut context = Context {
            exchange: self.header.exchange_type,
            nat_d: known,
        };
        if let Some(payloads) = self.payloads() {
            context.nat_d = learn_nat_d(payloads, context.nat_d);
        }
        context
    }

    /// Walks and decodes every payload of a plaintext message (nested SA levels included).
    pub fn check(&self) -> Result<()> {
        let context = self.context(None);
        if let Some(payloads) = self.payloads() {
            for payload in payloads {
                payload?.decode(context)?;
            }
        }
        Ok(())
    }

    /// A one-line summary of the message; `plaintext` is the decrypted body, if available.
    #[must_use]
    pub const fn summary<'b>(&'b self, plaintext: Option<&'b [u8]>) -> Summary<'b> {
        Summary {
            message: self,
            plaintext,
            nat_d: None,
        }
    }
}

/// Updates the agreed NAT-D payload type from the NAT-T vendor IDs of a chain: the most preferred
/// (RFC first, as listed by [`vendor::identify`]) wins.
#[must_use]
pub fn learn_nat_d(payloads: Payloads<'_>, known: Option<PayloadType>) -> Option<PayloadType> {
    let rank = |ty: PayloadType| match ty {
        PayloadType::NAT_D => 0,
        PayloadType::SAK => 1,
        _ => 2,
    };
    let mut best = known;
    for payload in payloads.map_while(Result::ok) {
        if payload.ty != PayloadType::VENDOR_ID {
            continue;
        }
        if let Some(found) = vendor::identify(payload.body).and_then(|v| v.nat_d)
            && best.is_none_or(|b| rank(found) < rank(b))
        {
            best = Some(found);
        }
    }
    best
}

/// A payload chain that starts with a HASH payload, split for hash verification (RFC 2409 §5.5, §5.7).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct HashedChain<'a> {
    /// The HASH payload's body: the received hash.
    pub hash: &'a [u8],
    /// Every payload after the HASH, generic headers included, up to the end of the last payload
    /// (padding excluded): what HASH(1) / HASH(2) / the informational HASH cover.
    pub rest: &'a [u8],
}

/// Splits a (decrypted) chain whose first payload is HASH; `None` if it starts with another payload.
pub fn split_hash(first: PayloadType, chain: &[u8]) -> Result<Option<HashedChain<'_>>> {
    if first != PayloadType::HASH {
        return Ok(None);
    }
    let mut payloads = Payloads::decrypted(first, chain, 0);
    let Some(hash) = payloads.next().transpose()? else {
        return Ok(None);
    };
    let start = hash.offset + crate::payload::GENERIC_HEADER_LEN + hash.body.len();
    let mut end = start;
    for payload in payloads {
        let payload = payload?;
        end = payload.offset + crate::payload::GENERIC_HEADER_LEN + payload.body.len();
    }
    Ok(Some(HashedChain {
        hash: hash.body,
        rest: &chain[start..end],
    }))
}

/// Payload types of a chain in tshark's `isakmp.typepayload` order: each payload's type, with the
/// Proposal (2) and Transform (3) types of an SA's children right after the SA.
pub fn flat_payload_types(payloads: Payloads<'_>, context: Context) -> Result<Vec<u8>> {
    let mut types = Vec::new();
    for payload in payloads {
        let payload = payload?;
        types.push(payload.ty.0);
        if let Body::Sa(sa) = payload.decode(context)? {
            for proposal in sa.proposals() {
                types.push(PayloadType::PROPOSAL.0);
                for transform in proposal?.transforms() {
                    transform?;
                    types.push(PayloadType::TRANSFORM.0);
                }
            }
        }
    }
    Ok(types)
}

/// The one-line summary of a message (see [`Message::summary`]).
#[derive(Clone, Copy, Debug)]
pub struct Summary<'a> {
    message: &'a Message<'a>,
    plaintext: Option<&'a [u8]>,
    nat_d: Option<PayloadType>,
}

impl<'a> Summary<'a> {
    /// Uses `nat_d` (learnt from earlier messages) to decode draft NAT-T payload types.
    #[must_use]
    pub const fn with_nat_d(mut self, nat_d: Option<PayloadType>) -> Self {
        self.nat_d = nat_d;
        self
    }
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.message.header;
        write!(
            f,
            "ISAKMP {} i={} r={} mid={:#010x}",
            h.exchange_type.name().unwrap_or("exchange"),
            Hex(&h.initiator_cookie),
            Hex(&h.responder_cookie),
            h.message_id,
        )?;
        if h.exchange_type.name().is_none() {
            write!(f, " exchange={}", h.exchange_type.0)?;
        }
        if h.flags.0 != 0 {
            write!(f, " flags={}", h.flags)?;
        }
        let payloads = match (self.message.is_encrypted(), self.plaintext) {
            (false, _) => Payloads::new(h.next_payload, self.message.body, HEADER_LEN),
            (true, Some(plain)) => {
                f.write_str(" decrypted:")?;
                Payloads::decrypted(h.next_payload, plain, HEADER_LEN)
            }
            (true, None) => return write!(f, " encrypted {} bytes", self.message.body.len()),
        };
        let context = Context {
            exchange: h.exchange_type,
            nat_d: learn_nat_d(payloads.clone(), self.nat_d),
        };
        for payload in payloads {
            match payload.and_then(|p| p.decode(context)) {
                Ok(body) => write!(f, " {body}")?,
                Err(err) => return write!(f, " <{err}>"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    dmvpn_wire::hex_consts! {
        // zeek-spicy-ipsec ipsec-ikev1-isakmp-main-mode.pcap frame 2: the responder's first Main Mode reply
        // (SA with one transform, the RFC 3947 NAT-T VID).
        const MM2: [u8; 108] = "e47a591fd057587fa00b8ef0902bb8ec01100200000000000000006c0d00003c00000001000000010000003001010001000000280101000080010007800e0080800200028004000280030001800b0001000c000400015180000000144a131c81070358455c5728f20e95452f";
    }

    #[test]
    fn parse_and_summarise() {
        let message = Message::parse(&MM2).unwrap();
        message.check().unwrap();
        assert_eq!(message.context(None).nat_d, Some(PayloadType::NAT_D));
        let types = flat_payload_types(message.payloads().unwrap(), message.context(None)).unwrap();
        assert_eq!(types, [1, 2, 3, 13]);
        assert_eq!(
            message.summary(None).to_string(),
            "ISAKMP Main Mode i=e47a591fd057587f r=a00b8ef0902bb8ec mid=0x00000000 SA(doi=IPsec (1) sit=0x1 P#1 ISAKMP (1) \
             [#1 KEY_IKE Encryption-Algorithm=AES-CBC Key-Length=128 Hash-Algorithm=SHA Group-Description=1024-bit MODP \
             Authentication-Method=Pre-shared key Life-Type=Seconds Life-Duration=86400]) VID(RFC 3947 NAT-T)"
        );
    }

    #[test]
    fn truncation_loop() {
        for len in 0..MM2.len() {
            let err = Message::parse(&MM2[..len]).unwrap_err();
            if len < HEADER_LEN {
                assert_eq!(err, Packet::new_checked(&MM2[..len]).unwrap_err());
                assert!(matches!(err, Error::Truncated { .. }));
            } else {
                assert_eq!(
                    err,
                    Error::bad_length(Layer::Isakmp, "length", 24, 108, len)
                );
            }
        }
        let mut longer = MM2.to_vec();
        longer.push(0);
        assert_eq!(
            Message::parse(&longer).unwrap_err(),
            Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: 108,
                len: 1
            }
        );
    }

    #[test]
    fn trailers_after_length_and_after_the_last_payload() {
        // After `length`: parse refuses, parse_trailing splits.
        let mut longer = MM2.to_vec();
        longer.extend_from_slice(&[0xaa, 0xbb]);
        let (message, trailer) = Message::parse_trailing(&longer).unwrap();
        assert_eq!(message, Message::parse(&MM2).unwrap());
        assert_eq!(trailer, [0xaa, 0xbb]);
        assert_eq!(message.chain_trailer(), None);
        assert_eq!(Message::parse_trailing(&MM2).unwrap().1, [0u8; 0]);
        // Inside `length`, after the VID (next payload NONE): the strict chain ends in an error,
        // the lenient one stops at the VID and the trailer is located.
        let mut inside = MM2.to_vec();
        inside.extend_from_slice(&[1, 2, 3, 4, 5]);
        inside[24..28].copy_from_slice(&113u32.to_be_bytes());
        let message = Message::parse(&inside).unwrap();
        let strict: Vec<_> = message.payloads().unwrap().collect();
        assert_eq!(
            strict.last(),
            Some(&Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: 108,
                len: 5
            }))
        );
        let lenient = message.payloads_lenient().unwrap();
        let types = flat_payload_types(lenient, message.context(None)).unwrap();
        assert_eq!(types, [1, 2, 3, 13]);
        assert_eq!(message.chain_trailer(), Some((108, &[1, 2, 3, 4, 5][..])));
        // A chain broken before its end has no trailer to report.
        let mut broken = inside.clone();
        broken[30..32].copy_from_slice(&[0x7f, 0xff]);
        assert_eq!(Message::parse(&broken).unwrap().chain_trailer(), None);
        // Nor has an encrypted message, or a header too short to parse.
        let mut encrypted = inside;
        encrypted[19] = 1;
        let message = Message::parse(&encrypted).unwrap();
        assert!(message.payloads_lenient().is_none());
        assert_eq!(message.chain_trailer(), None);
        for len in 0..HEADER_LEN {
            assert!(matches!(
                Message::parse_trailing(&MM2[..len]),
                Err(Error::Truncated { .. })
            ));
        }
        assert!(matches!(
            Message::parse_trailing(&MM2[..100]),
            Err(Error::BadLength { .. })
        ));
    }

    #[test]
    fn split_hash_chain() {
        // HASH(4 bytes) then NONCE(2 bytes), then 2 bytes of padding.
        let chain = [10, 0, 0, 8, 1, 2, 3, 4, 0, 0, 0, 6, 9, 9, 0, 0];
        let split = split_hash(PayloadType::HASH, &chain).unwrap().unwrap();
        assert_eq!(
            split,
            HashedChain {
                hash: &[1, 2, 3, 4],
                rest: &chain[8..14]
            }
        );
        assert_eq!(split_hash(PayloadType::NONCE, &chain), Ok(None));
        assert!(split_hash(PayloadType::HASH, &chain[..10]).is_err());
    }

    #[test]
    fn encrypted_summary() {
        let mut bytes = MM2;
        bytes[19] = 1;
        let message = Message::parse(&bytes).unwrap();
        assert!(message.payloads().is_none());
        assert!(
            message
                .summary(None)
                .to_string()
                .ends_with("flags=0x01 [E] encrypted 80 bytes")
        );
    }
}
