//! IKE decryption for the decoder: for IKEv1, one [`IkeSaState`] per initiator cookie with a
//! known key; for IKEv2, the keys of each SA by its SPI pair (Wireshark's
//! `ikev2_decryption_table`) and the reassembly of RFC 7383 fragments.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use dmvpn_isakmp::crypto::IkeSaState;
use dmvpn_isakmp::keys::{Ikev1Key, Secret};
use dmvpn_isakmp::v2::crypto::{DecryptError, Icv};
use dmvpn_isakmp::v2::fragment::{Key as FragmentKey, Outcome, Reassembler};
use dmvpn_isakmp::{Message, PayloadType, v2};

use crate::json::Object;
use crate::keys::Ikev2Key;

use super::Ikev2Layer;
use super::ikev2_child::Children;

/// An IKEv2 SA's initiator and responder SPIs.
type SpiPair = ([u8; 8], [u8; 8]);

/// At most this many IKE SAs are followed at once; beyond it the oldest knowledge is dropped.
const MAX_SAS: usize = 4096;

/// The encryption keys (Ka) of Wireshark's `ikev1_decryption_table`, by initiator cookie, and the
/// state of each IKE SA seen so far (its IVs chain from message to message, RFC 2409 Appendix B).
/// The keys are shared by clones and forks (one table however many decoders); the state is each
/// one's own.
#[derive(Clone, Default)]
pub struct IkeKeys {
    keys: Arc<HashMap<[u8; 8], Secret>>,
    states: HashMap<[u8; 8], IkeSaState>,
    /// The NAT-D payload type agreed by NAT-T vendor IDs, per SA, for SAs without a key too.
    nat_d: HashMap<[u8; 8], PayloadType>,
    /// IKEv2 keys by (initiator SPI, responder SPI).
    v2_keys: Arc<HashMap<SpiPair, Ikev2Key>>,
    /// Decrypted IKEv2 fragments waiting for the rest of their message.
    v2_fragments: Reassembler,
    /// Whether some IKEv2 line has SK_d: then Child SAs are followed for their ESP keys.
    v2_derive: bool,
    /// The Child SAs of the IKEv2 SAs with SK_d.
    v2_children: Children,
}

impl fmt::Debug for IkeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IkeKeys")
            .field("keys", &self.keys.len())
            .field("sas", &self.states.len())
            .field("ikev2_keys", &self.v2_keys.len())
            .finish_non_exhaustive()
    }
}

/// What the decoder learnt from one ISAKMP message.
pub(super) struct IkeOutcome {
    /// The decrypted payload chain (with padding), for an encrypted message of a known SA.
    pub(super) plaintext: Option<Vec<u8>>,
    /// Why an encrypted message of a known SA did not decrypt.
    pub(super) error: Option<dmvpn_isakmp::crypto::DecryptError>,
    /// The NAT-D payload type in force for this SA.
    pub(super) nat_d: Option<PayloadType>,
}

/// What the decoder learnt from one IKEv2 message.
#[derive(Default)]
pub(super) struct Ikev2Outcome {
    /// The decrypted SK or SKF payload.
    pub(super) inner: Option<v2::Inner>,
    /// Why the SK or SKF payload of an SA with keys did not decrypt.
    pub(super) error: Option<DecryptError>,
    /// The inner chain of a fragmented message this fragment completed: its first payload type
    /// and the chain.
    pub(super) reassembled: Option<(v2::PayloadType, Vec<u8>)>,
    /// The ESP SAs of a Child SA this message completed, keyed from the IKE SA's SK_d.
    pub(super) esp: Vec<crate::keys::EspSa>,
}

impl IkeKeys {
    /// Adds the keys of an `ikev1_decryption_table`; a later key for the same initiator cookie
    /// replaces the earlier one.
    pub fn extend(&mut self, keys: impl IntoIterator<Item = Ikev1Key>) {
        let table = Arc::make_mut(&mut self.keys);
        for key in keys {
            table.insert(key.initiator_cookie, key.encryption_key);
        }
    }

    /// How many keys there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds the keys of an `ikev2_decryption_table`; a later line for the same SPI pair replaces
    /// the earlier one.
    pub fn extend_v2(&mut self, keys: impl IntoIterator<Item = Ikev2Key>) {
        let table = Arc::make_mut(&mut self.v2_keys);
        for key in keys {
            self.v2_derive |= key.sk_d.is_some();
            table.insert((key.keys.initiator_spi, key.keys.responder_spi), key);
        }
    }

    /// The IKEv2 keys by SPI pair (shared: a clone of the table's handle).
    pub(super) fn v2_table(&self) -> Arc<HashMap<SpiPair, Ikev2Key>> {
        Arc::clone(&self.v2_keys)
    }

    /// How many IKEv2 SAs have keys.
    #[must_use]
    pub fn ikev2_len(&self) -> usize {
        self.v2_keys.len()
    }

    /// The same keys, no IKE SA seen yet.
    pub(super) fn fork(&self) -> Self {
        Self {
            keys: Arc::clone(&self.keys),
            v2_keys: Arc::clone(&self.v2_keys),
            v2_derive: self.v2_derive,
            ..Self::default()
        }
    }

    /// Feeds one IKEv2 message: decrypts its SK or SKF payload when its SA has keys, and
    /// reassembles fragmented messages (from fragments whose ICV did not fail).
    pub(super) fn process_v2(&mut self, message: &v2::Message<'_>) -> Ikev2Outcome {
        let header = &message.header;
        let mut outcome = Ikev2Outcome::default();
        let Some(key) = self
            .v2_keys
            .get(&(header.initiator_spi, header.responder_spi))
        else {
            if self.v2_derive && header.exchange_type == v2::ExchangeType::IKE_SA_INIT {
                outcome.esp = self.v2_children.observe(message, None, None, None);
            }
            return outcome;
        };
        match message.decrypt(&key.keys) {
            None => {}
            Some(Err(error)) => outcome.error = Some(error),
            Some(Ok(inner)) => {
                if let Some((number, total)) = inner.fragment
                    && inner.decrypted.icv != Icv::Bad
                {
                    let key = FragmentKey {
                        initiator_spi: header.initiator_spi,
                        responder_spi: header.responder_spi,
                        message_id: header.message_id,
                        response: header.flags.response(),
                    };
                    let plaintext = &inner.decrypted.plaintext;
                    if let Outcome::Complete(first, chain) =
                        self.v2_fragments
                            .add(key, number, total, inner.first, plaintext)
                    {
                        outcome.reassembled = Some((first, chain));
                    }
                }
                outcome.inner = Some(inner);
            }
        }
        if key.sk_d.is_some() {
            let reassembled = outcome.reassembled.as_ref();
            outcome.esp = self.v2_children.observe(
                message,
                Some(key),
                outcome.inner.as_ref(),
                reassembled.map(|(first, chain)| (*first, chain.as_slice())),
            );
        }
        outcome
    }

    /// Feeds one message of an IKE SA, in capture order.
    pub(super) fn process(&mut self, message: &Message<'_>) -> IkeOutcome {
        let cookie = message.header.initiator_cookie;
        let mut outcome = IkeOutcome {
            plaintext: None,
            error: None,
            nat_d: self.nat_d.get(&cookie).copied(),
        };
        if let Some(key) = self.keys.get(&cookie) {
            if self.states.len() >= MAX_SAS && !self.states.contains_key(&cookie) {
                self.states.clear();
            }
            let state = self
                .states
                .entry(cookie)
                .or_insert_with(|| IkeSaState::new(cookie, key.clone()));
            match state.process(message) {
                Ok(plaintext) => outcome.plaintext = plaintext,
                Err(error) => outcome.error = Some(error),
            }
            outcome.nat_d = state.nat_d().or(outcome.nat_d);
        } else if let Some(payloads) = message.payloads() {
            outcome.nat_d = dmvpn_isakmp::message::learn_nat_d(payloads, outcome.nat_d);
        }
        if let Some(nat_d) = outcome.nat_d {
            if self.nat_d.len() >= MAX_SAS {
                self.nat_d.clear();
            }
            self.nat_d.insert(cookie, nat_d);
        }
        outcome
    }
}

/// The payloads of an IKEv2 message in tshark's `isakmp.typepayload` order: the chain, and for
/// the SK or SKF payload the decrypted chain after it. Like tshark, a body that does not decode
/// does not end the walk (its generic header says where the next payload is); a generic header
/// that does not fit does. Returns the first error met.
fn ikev2_walk(
    layer: &Ikev2Layer<'_>,
    mut each: impl FnMut(&v2::Payload<'_>, Result<v2::Body<'_>, &dmvpn_isakmp::Error>),
) -> Option<dmvpn_isakmp::Error> {
    let mut first = None;
    let mut walk = |payloads: v2::Payloads<'_>| {
        for payload in payloads {
            match payload {
                Ok(payload) => match payload.decode() {
                    Ok(body) => each(&payload, Ok(body)),
                    Err(error) => {
                        each(&payload, Err(&error));
                        first.get_or_insert(error);
                    }
                },
                Err(error) => {
                    first.get_or_insert(error);
                }
            }
        }
    };
    walk(layer.message.payloads());
    if let Some(inner) = layer.inner_payloads() {
        walk(inner);
    }
    first
}

/// Calls `each` with a payload's type, then, for an SA, 2 per proposal and 3 per transform (as
/// far as they parse).
fn flatten(payload: &v2::Payload<'_>, each: &mut dyn FnMut(u8)) {
    each(payload.ty.0);
    if payload.ty == v2::PayloadType::SA {
        let sa = v2::sa::Sa {
            bytes: payload.body,
            offset: payload.offset + 4,
        };
        for proposal in sa.proposals().map_while(Result::ok) {
            each(2);
            for _ in proposal.transforms().map_while(Result::ok) {
                each(3);
            }
        }
    }
}

/// The text info column of an IKEv2 message: tshark's `IKE_AUTH MID=01 Initiator Request`, the
/// SPIs, then every payload, the decrypted ones in `SK{…}` with the ICV result.
pub(super) fn ikev2_info(layer: &Ikev2Layer<'_>, f: &mut dyn fmt::Write) -> fmt::Result {
    let header = &layer.message.header;
    match header.exchange_type.name() {
        Some(name) => f.write_str(name)?,
        None => write!(f, "exchange {}", header.exchange_type.0)?,
    }
    write!(
        f,
        " MID={:02} {} {} i={} r={}",
        header.message_id,
        if header.flags.initiator() {
            "Initiator"
        } else {
            "Responder"
        },
        if header.flags.response() {
            "Response"
        } else {
            "Request"
        },
        dmvpn_wire::fmt::Hex(&header.initiator_spi),
        dmvpn_wire::fmt::Hex(&header.responder_spi),
    )?;
    for payload in layer.message.payloads() {
        let body = match payload.and_then(|p| p.decode()) {
            Ok(body) => body,
            Err(error) => {
                write!(f, " [Malformed: {error}]")?;
                continue;
            }
        };
        write!(f, " {body}")?;
        if !matches!(body, v2::Body::Sk(_) | v2::Body::Skf(_)) {
            continue;
        }
        if let Some(error) = layer.decrypt_error {
            write!(f, " [{error}]")?;
        }
        if let Some(inner) = layer.inner_payloads() {
            f.write_str(" {")?;
            let mut sep = "";
            for payload in inner {
                match payload.and_then(|p| p.decode()) {
                    Ok(body) => write!(f, "{sep}{body}")?,
                    Err(error) => write!(f, "{sep}[Malformed: {error}]")?,
                }
                sep = " ";
            }
            f.write_str("}")?;
        } else if let Some((number, total)) = layer.inner.and_then(|inner| inner.fragment) {
            write!(f, " [fragment {number} of {total} decrypted]")?;
        }
        match layer.icv() {
            Some(Icv::Bad) => f.write_str(" [ICV BAD]")?,
            Some(icv) => write!(f, " ICV {}", icv.name())?,
            None => {}
        }
    }
    Ok(())
}

/// An IKEv2 message as JSON: the header, whether and how it decrypted, the payload types in
/// tshark's order (decrypted ones included) and a one-line description of each payload.
pub(super) fn ikev2_json(layer: &Ikev2Layer<'_>, obj: &mut Object<'_>) {
    let message = layer.message;
    let header = &message.header;
    obj.u64("version", 2);
    obj.hex("icookie", &header.initiator_spi);
    obj.hex("rcookie", &header.responder_spi);
    obj.u64("exchange", u64::from(header.exchange_type.0));
    if let Some(name) = header.exchange_type.name() {
        obj.str("exchange_name", name);
    }
    obj.hex_u16("flags", u16::from(header.flags.0));
    obj.bool("initiator", header.flags.initiator());
    obj.bool("response", header.flags.response());
    obj.bool("higher_version", header.flags.higher_version());
    obj.hex_u32("message_id", header.message_id);
    obj.u64("length", u64::from(header.length));
    let encrypted = message.encrypted_payload().is_some();
    obj.bool("encrypted", encrypted);
    if encrypted {
        obj.bool("decrypted", layer.inner.is_some());
    }
    if let Some(icv) = layer.icv() {
        obj.str("icv", icv.name());
    }
    if let Some(error) = layer.decrypt_error {
        obj.display("decrypt_error", error);
    }
    if let Some((number, total)) = layer.inner.and_then(|inner| inner.fragment) {
        let mut fragment = obj.object("fragment");
        fragment.u64("number", u64::from(number));
        fragment.u64("total", u64::from(total));
        fragment.bool("reassembled", layer.reassembled.is_some());
        fragment.end();
    }
    let mut array = obj.array("payloads");
    let error = ikev2_walk(layer, |payload, _| {
        flatten(payload, &mut |t| array.u64(u64::from(t)));
    });
    array.end();
    let mut chain = obj.array("chain");
    ikev2_walk(layer, |payload, body| match body {
        Ok(body) => chain.display(&body),
        Err(error) => chain.display(&format_args!("{} [Malformed: {error}]", payload.ty)),
    });
    chain.end();
    if let Some(error) = error {
        obj.display("payload_error", &error);
    }
}
