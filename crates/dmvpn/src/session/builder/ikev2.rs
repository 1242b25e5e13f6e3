//! What an IKEv2 message adds to its pair: the IKE SA (by initiator SPI), the exchange (by message
//! ID and requester), the Child SAs, NAT detection and the error notifications.

use std::net::IpAddr;

use dmvpn_isakmp::consts::HashAlgorithm;
use dmvpn_isakmp::v2::consts::ProtocolId;
use dmvpn_isakmp::v2::{Body, ExchangeType, NotifyType};

use super::super::ikev2::{
    Ikev2Child, Ikev2Exchange, Ikev2Notify, Ikev2Sa, InvalidKe, auth_method, ikev2_proposal,
    proposal_group,
};
use super::super::{MAX_EVENTS, MAX_EVIDENCE, MAX_IKE_SAS, MAX_IKE_SAS_PER_PAIR, PeerPair, Seen};
use super::SessionBuilder;
use crate::decode::Ikev2Layer;

/// What one message says, gathered from its payloads (the clear ones and the decrypted ones).
#[derive(Default)]
struct Facts<'a> {
    /// The first SA proposal: (IOS name, protocol, SPI, PFS group).
    proposal: Option<(String, ProtocolId, Vec<u8>, Option<u16>)>,
    /// The KE payload's group.
    ke: Option<u16>,
    /// AUTH payload's method.
    auth: Option<String>,
    /// Error notifications (name, INVALID_KE_PAYLOAD's group).
    errors: Vec<(String, Option<u16>)>,
    /// REKEY_SA's SPI.
    rekey: Option<u32>,
    /// USE_TRANSPORT_MODE seen.
    transport: bool,
    /// NAT_DETECTION_SOURCE_IP / _DESTINATION_IP data.
    nat_source: Vec<Vec<u8>>,
    nat_destination: Option<Vec<u8>>,
    /// Delete payloads: protocol and SPIs.
    deletes: Vec<(&'static str, Vec<u32>)>,
    /// Decrypted inner payloads (`None`: nothing encrypted, or not decrypted).
    inner: Option<usize>,
    /// For the PSK check (gathered only with keys given): the Nonce body, the IDi / IDr body
    /// (0 / 1), the AUTH payload and the PRF of the first proposal.
    nonce: Option<&'a [u8]>,
    id: Option<(usize, &'a [u8])>,
    auth_payload: Option<(dmvpn_isakmp::v2::consts::AuthMethod, &'a [u8])>,
    prf: Option<u16>,
}

impl<'a> Facts<'a> {
    /// What the PSK check needs from a payload.
    fn material(&mut self, payload: &dmvpn_isakmp::v2::Payload<'a>, body: &Body<'a>) {
        match body {
            Body::Nonce(nonce) => self.nonce = Some(nonce),
            Body::IdI(_) => self.id = self.id.or(Some((0, payload.body))),
            Body::IdR(_) => self.id = self.id.or(Some((1, payload.body))),
            Body::Auth(auth) => self.auth_payload = Some((auth.method, auth.data)),
            Body::Sa(sa) if self.prf.is_none() => {
                self.prf = sa.proposals().next().and_then(Result::ok).and_then(|p| {
                    p.transforms()
                        .map_while(Result::ok)
                        .find(|t| t.ty == dmvpn_isakmp::v2::consts::TransformType::PRF)
                        .map(|t| t.id)
                });
            }
            _ => {}
        }
    }

    fn read(&mut self, body: &Body<'_>) {
        match body {
            Body::Sa(sa) if self.proposal.is_none() => {
                if let Some(Ok(proposal)) = sa.proposals().next() {
                    self.proposal = Some((
                        ikev2_proposal(&proposal),
                        proposal.protocol,
                        proposal.spi.to_vec(),
                        proposal_group(&proposal),
                    ));
                }
            }
            Body::Ke(ke) => self.ke = Some(ke.group.0),
            Body::Auth(auth) => self.auth = Some(auth_method(auth.method)),
            Body::Notify(notify) => match notify.ty {
                NotifyType::REKEY_SA => self.rekey = spi32(notify.spi),
                NotifyType::USE_TRANSPORT_MODE => self.transport = true,
                NotifyType::NAT_DETECTION_SOURCE_IP => self.nat_source.push(notify.data.to_vec()),
                NotifyType::NAT_DETECTION_DESTINATION_IP => {
                    self.nat_destination = Some(notify.data.to_vec());
                }
                ty if ty.is_error() => {
                    let name = ty.name().map_or_else(|| ty.0.to_string(), str::to_owned);
                    let group = (ty == NotifyType::INVALID_KE_PAYLOAD)
                        .then(|| notify.data.get(..2))
                        .flatten()
                        .map(|g| u16::from_be_bytes([g[0], g[1]]));
                    self.errors.push((name, group));
                }
                _ => {}
            },
            Body::Delete(delete) => {
                let spis = delete.iter().filter_map(spi32).collect();
                let protocol = delete.protocol.name().unwrap_or("?");
                self.deletes.push((protocol, spis));
            }
            _ => {}
        }
    }
}

/// A 4-byte SPI.
fn spi32(bytes: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(bytes).ok().map(u32::from_be_bytes)
}

/// An 8-byte SPI.
fn spi64(bytes: &[u8]) -> Option<[u8; 8]> {
    <[u8; 8]>::try_from(bytes).ok()
}

/// The address bytes and port, for the NAT detection hash.
fn endpoint(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

impl SessionBuilder {
    /// One IKEv2 message.
    pub(super) fn ikev2(&mut self, layer: &Ikev2Layer<'_>) {
        let seen = self.frame.seen;
        let (Some(pair_index), Some((src, dst))) = (self.frame.pair, self.frame.outer) else {
            return;
        };
        let ports = self.frame.udp_ports;
        let header = layer.message.header;
        let exchange = header.exchange_type;
        let Some(pair) = self.pairs.get_mut(pair_index) else {
            return;
        };
        let key = (pair_index, header.initiator_spi);
        let room = pair.ikev2.len() < MAX_IKE_SAS_PER_PAIR && self.ike_sas < MAX_IKE_SAS;
        let index = if let Some(&known) = self.ikev2_index.get(&key) {
            known
        } else if room {
            let sa = Ikev2Sa {
                spi_i: header.initiator_spi,
                first: seen,
                ..Ikev2Sa::default()
            };
            let sa = rekeyed(pair, sa, header.responder_spi, exchange);
            pair.ikev2.push(sa);
            self.ike_sas += 1;
            *self.ikev2_index.entry(key).or_insert(pair.ikev2.len() - 1)
        } else {
            // Over the caps: counted with the IKEv1 messages of SAs not kept.
            pair.overflow.ike_messages += 1;
            return;
        };
        let check_psk = self.psks.is_some();
        let mut facts = Facts::default();
        for payload in layer.message.payloads().map_while(Result::ok) {
            if let Ok(body) = payload.decode() {
                facts.read(&body);
                if check_psk {
                    facts.material(&payload, &body);
                }
            }
        }
        let encrypted = layer.message.encrypted_payload().is_some();
        if let Some(inner) = layer.inner_payloads() {
            let mut count = 0;
            for payload in inner.map_while(Result::ok) {
                count += 1;
                if let Ok(body) = payload.decode() {
                    facts.read(&body);
                    if check_psk {
                        facts.material(&payload, &body);
                    }
                }
            }
            facts.inner = Some(count);
        }
        let undecrypted = encrypted && facts.inner.is_none();
        let response = header.flags.response();
        // An IKE_SA_INIT request with a KE for a group an INVALID_KE_PAYLOAD asked for: the retry.
        if exchange == ExchangeType::IKE_SA_INIT
            && !response
            && let Some(group) = facts.ke
        {
            retry_after_invalid_ke(pair, src, group, seen.frame);
        }
        let Some(sa) = pair.ikev2.get_mut(index) else {
            return;
        };
        sa.messages += 1;
        sa.last = seen;
        sa.undecrypted += u64::from(undecrypted);
        if sa.spi_r == [0; 8] {
            sa.spi_r = header.responder_spi;
        }
        if exchange == ExchangeType::IKE_SA_INIT && !response {
            sa.initiator.get_or_insert(src);
        } else if sa.initiator.is_none() {
            sa.initiator = Some(if header.flags.initiator() { src } else { dst });
        }
        if exchange == ExchangeType::IKE_SA_INIT && !response && facts.ke.is_some() {
            sa.offered_ke = facts.ke;
        }
        let from_initiator = response != header.flags.initiator();
        let name = exchange
            .name()
            .map_or_else(|| exchange.0.to_string(), str::to_owned);
        let Some(at) = exchange_slot(sa, &name, header.message_id, from_initiator, response, seen)
        else {
            return;
        };
        for (ty, group) in &facts.errors {
            if sa.errors.len() < MAX_EVIDENCE {
                sa.errors.push(Ikev2Notify {
                    seen,
                    ty: ty.clone(),
                    exchange: name.clone(),
                    response,
                    from: src,
                });
            }
            if *ty == "INVALID_KE_PAYLOAD"
                && exchange == ExchangeType::IKE_SA_INIT
                && response
                && sa.invalid_ke.len() < MAX_EVIDENCE
            {
                sa.invalid_ke.push(InvalidKe {
                    frame: seen.frame,
                    offered: sa.offered_ke,
                    asked: *group,
                    retried: None,
                });
            }
        }
        if exchange == ExchangeType::IKE_SA_INIT {
            init_message(sa, &facts, response, (src, dst), ports, seen);
        }
        if check_psk {
            auth_material(sa, layer, &facts, response, seen.frame);
        }
        for (protocol, spis) in &facts.deletes {
            for child in &mut sa.children {
                if spis.iter().any(|s| child.spis.contains(s)) {
                    child.deleted.get_or_insert(seen);
                }
            }
            if sa.deletes.len() < MAX_EVIDENCE {
                sa.deletes.push((seen, protocol, spis.clone()));
            }
        }
        let Some(entry) = sa.exchanges.get_mut(at) else {
            return;
        };
        entry.undecrypted |= undecrypted;
        if response && entry.error.is_none() {
            entry.error = facts.errors.first().map(|(name, _)| name.clone());
        }
        if let Some(spi) = facts.rekey {
            entry.rekey_spi = Some(spi);
        }
        entry.kind = entry.kind.or(match exchange {
            ExchangeType::IKE_SA_INIT => Some("init"),
            ExchangeType::IKE_AUTH => Some("auth"),
            ExchangeType::INFORMATIONAL if facts.inner == Some(0) && !response => Some("dpd"),
            ExchangeType::INFORMATIONAL if !facts.deletes.is_empty() => Some("delete"),
            ExchangeType::CREATE_CHILD_SA => match &facts.proposal {
                Some((_, ProtocolId::IKE, ..)) => Some("ike-rekey"),
                Some(_) if facts.rekey.is_some() => Some("child-rekey"),
                Some(_) => Some("child"),
                None => None,
            },
            _ => None,
        });
        let kind = entry.kind;
        let message_id = header.message_id;
        if exchange == ExchangeType::IKE_AUTH {
            if !response
                && from_initiator
                && let Some(method) = &facts.auth
            {
                sa.auth_method = Some(method.clone());
            }
            // Up with the responder's answer: its AUTH when decrypted (an error about the Child
            // SA leaves the IKE SA up), any answer without keys.
            let refused = facts
                .errors
                .iter()
                .any(|(ty, _)| ty == "AUTHENTICATION_FAILED");
            if response && !refused && (undecrypted || facts.auth.is_some()) {
                sa.established.get_or_insert(seen);
            }
        }
        if kind == Some("ike-rekey")
            && let Some((_, _, spi, _)) = &facts.proposal
            && let Some(spi) = spi64(spi)
        {
            let (mut new_i, mut new_r) = sa.rekeyed_to.unwrap_or_default();
            if response {
                new_r = spi;
                sa.rekey_answer.get_or_insert(seen);
            } else {
                new_i = spi;
            }
            sa.rekeyed_to = Some((new_i, new_r));
        }
        let child_exchange = match exchange {
            ExchangeType::IKE_AUTH => "IKE_AUTH",
            ExchangeType::CREATE_CHILD_SA => "CREATE_CHILD_SA",
            _ => return,
        };
        if kind == Some("ike-rekey") {
            return;
        }
        child_message(
            sa,
            (child_exchange, message_id, from_initiator),
            &facts,
            response,
            seen,
        );
    }
}

/// A new SA whose first message is not an IKE_SA_INIT: if an IKE rekey of the pair named its
/// SPIs, it replaced that SA and is up from the rekey's answer.
fn rekeyed(pair: &PeerPair, mut sa: Ikev2Sa, spi_r: [u8; 8], exchange: ExchangeType) -> Ikev2Sa {
    if exchange == ExchangeType::IKE_SA_INIT {
        return sa;
    }
    if let Some(old) = pair
        .ikev2
        .iter()
        .find(|old| old.rekeyed_to == Some((sa.spi_i, spi_r)))
    {
        sa.rekeyed_from = Some(old.spi_i);
        sa.established = old.rekey_answer;
    }
    sa
}

/// Marks the INVALID_KE_PAYLOAD answers of `src`'s IKE SAs on the pair that asked for `group` as
/// retried in `frame`.
fn retry_after_invalid_ke(pair: &mut PeerPair, src: IpAddr, group: u16, frame: u64) {
    for sa in pair.ikev2.iter_mut().filter(|sa| sa.initiator == Some(src)) {
        for answer in &mut sa.invalid_ke {
            if answer.asked == Some(group) && answer.retried.is_none() && answer.frame < frame {
                answer.retried = Some(frame);
            }
        }
    }
}

/// The index of the exchange this message belongs to, created on first sight. A request seen
/// again is a retransmission, except an IKE_SA_INIT request after its answer: a retry (after
/// INVALID_KE_PAYLOAD or COOKIE), which is a new exchange.
fn exchange_slot(
    sa: &mut Ikev2Sa,
    name: &str,
    message_id: u32,
    from_initiator: bool,
    response: bool,
    seen: Seen,
) -> Option<usize> {
    let found = sa.exchanges.iter().rposition(|e| {
        e.message_id == message_id && e.from_initiator == from_initiator && e.exchange == name
    });
    let retry =
        |e: &Ikev2Exchange| !response && e.exchange == "IKE_SA_INIT" && e.response.is_some();
    let at = match found {
        Some(at) if !sa.exchanges.get(at).is_some_and(retry) => at,
        _ if sa.exchanges.len() < MAX_EVENTS => {
            sa.exchanges.push(Ikev2Exchange {
                exchange: name.to_owned(),
                message_id,
                from_initiator,
                ..Ikev2Exchange::default()
            });
            sa.exchanges.len() - 1
        }
        _ => return None,
    };
    let entry = sa.exchanges.get_mut(at)?;
    if response {
        entry.response.get_or_insert(seen);
    } else {
        entry.request.get_or_insert(seen);
        entry.requests += 1;
        if entry.request_frames.len() < MAX_EVIDENCE {
            entry.request_frames.push(seen.frame);
        }
    }
    Some(at)
}

/// IKE_SA_INIT: the proposal and NAT detection.
fn init_message(
    sa: &mut Ikev2Sa,
    facts: &Facts<'_>,
    response: bool,
    (src, dst): (IpAddr, IpAddr),
    ports: Option<(u16, u16)>,
    seen: Seen,
) {
    if let Some((name, ProtocolId::IKE, ..)) = &facts.proposal
        && facts.errors.is_empty()
        && (response || !sa.proposal_accepted)
    {
        sa.proposal = Some(name.clone());
        sa.proposal_accepted = response;
    }
    let Some((src_port, dst_port)) = ports else {
        return;
    };
    // RFC 7296 §2.23: SHA-1(SPIi | SPIr | IP | port), SPIr zero in the request.
    let spi_r = if response { sa.spi_r } else { [0; 8] };
    let hash = |addr: IpAddr, port: u16| {
        dmvpn_isakmp::keys::nat_d_hash(HashAlgorithm::SHA1, sa.spi_i, spi_r, &endpoint(addr), port)
    };
    // Side 0 is the initiator: a request comes from it, a response goes to it.
    let (sender, receiver) = if response { (1, 0) } else { (0, 1) };
    let mut mismatch = false;
    if !facts.nat_source.is_empty() {
        let ours = hash(src, src_port);
        let translated = !facts.nat_source.iter().any(|h| Some(h) == ours.as_ref());
        mismatch |= translated;
        let slot = &mut sa.nat[sender];
        *slot = Some(slot.unwrap_or(false) | translated);
    }
    if let Some(theirs) = &facts.nat_destination {
        let translated = hash(dst, dst_port).as_ref() != Some(theirs);
        mismatch |= translated;
        let slot = &mut sa.nat[receiver];
        *slot = Some(slot.unwrap_or(false) | translated);
    }
    if mismatch && sa.nat_frames.len() < MAX_EVIDENCE {
        sa.nat_frames.push(seen.frame);
    }
}

/// What the PSK check of the SA needs from this message: the IKE_SA_INIT messages, nonces and
/// PRF in the clear, the IKE_AUTH ID and AUTH payloads decrypted, SK_pi / SK_pr from the key line.
fn auth_material(
    sa: &mut Ikev2Sa,
    layer: &Ikev2Layer<'_>,
    facts: &Facts<'_>,
    response: bool,
    frame: u64,
) {
    let material = sa.auth_material.get_or_insert_with(Box::default);
    let exchange = layer.message.header.exchange_type;
    let side = usize::from(response);
    if exchange == ExchangeType::IKE_SA_INIT {
        if let Some(nonce) = facts.nonce
            && facts.errors.is_empty()
        {
            material.init(side, frame, layer.message.bytes, nonce);
            if response {
                material.prf = facts.prf.and_then(super::super::ikev2::prf_of);
            }
        }
        return;
    }
    if exchange != ExchangeType::IKE_AUTH {
        return;
    }
    if material.sk_p.is_none()
        && let Some(sk_p) = layer.key.and_then(|key| key.sk_p.as_ref())
    {
        material.sk_p = Some(sk_p.clone());
    }
    // The request is the initiator's (IDi, its AUTH), the response the responder's.
    if let Some((id_side, body)) = facts.id
        && id_side == side
    {
        material.id(side, body);
    }
    if let Some((method, data)) = facts.auth_payload {
        material.auth(side, frame, method, data);
    }
}

/// IKE_AUTH and CREATE_CHILD_SA: the Child SA the exchange negotiates.
fn child_message(
    sa: &mut Ikev2Sa,
    (exchange, message_id, from_initiator): (&'static str, u32, bool),
    facts: &Facts<'_>,
    response: bool,
    seen: Seen,
) {
    let position = sa.children.iter().position(|c| {
        c.exchange == exchange && c.message_id == message_id && c.from_initiator == from_initiator
    });
    let has_child = matches!(&facts.proposal, Some((_, p, ..)) if *p != ProtocolId::IKE);
    let at = match position {
        Some(at) => at,
        None if (has_child || response && !facts.errors.is_empty())
            && sa.children.len() < MAX_EVENTS =>
        {
            // An error answer to an exchange whose request was not read still refuses a child.
            if !has_child && !sa.exchanges.iter().any(|e| e.message_id == message_id) {
                return;
            }
            sa.children.push(Ikev2Child {
                exchange,
                message_id,
                from_initiator,
                first: seen,
                ..Ikev2Child::default()
            });
            sa.children.len() - 1
        }
        None => return,
    };
    let Some(child) = sa.children.get_mut(at) else {
        return;
    };
    if let Some((name, _, spi, group)) = &facts.proposal
        && has_child
    {
        if let Some(spi) = spi32(spi)
            && !child.spis.contains(&spi)
        {
            child.spis.push(spi);
        }
        if response || child.transform.is_none() {
            child.transform = Some(name.clone());
        }
        if exchange == "CREATE_CHILD_SA" && facts.ke.is_some() {
            child.pfs = group.or(facts.ke);
        }
    }
    if !response {
        child.rekey_of = child.rekey_of.or(facts.rekey);
        child.mode = Some(if facts.transport {
            "transport"
        } else {
            "tunnel"
        });
        return;
    }
    if let Some((name, _)) = facts.errors.first() {
        child.refused = Some(name.clone());
    } else if has_child {
        child.completed.get_or_insert(seen);
        if child.mode == Some("transport") && !facts.transport {
            child.mode = Some("tunnel");
        }
    }
}
