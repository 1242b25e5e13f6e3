//! What each layer of a frame adds to its pair: outer IP, ESP, GRE, NHRP, EIGRP, TCP and ISAKMP.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use super::super::report::is_group_address;
use super::super::{
    ChildSa, EspFlow, IkeSa, MAX_EVENTS, MAX_EVIDENCE, MAX_HAIRPIN_KEYS, MAX_IKE_SAS,
    MAX_IKE_SAS_PER_PAIR, MAX_IPV6_FRAGMENTS, MAX_SPIS, MAX_SPIS_PER_PAIR, MAX_TUNNEL_BINDINGS,
    MAX_TUNNEL_MSS, NhrpEvent, NhrpKind, diagnose, eigrp, isakmp, nhrp,
};
use super::{InnerKey, SessionBuilder, ip_from, push_evidence};
use crate::capture::ipv4;
use crate::decode::{EspStatus, IsakmpLayer};

impl SessionBuilder {
    pub(super) fn ipv4(
        &mut self,
        header: &ipv4::Repr<'_>,
        fragments: Option<&[crate::capture::FragmentInfo]>,
    ) {
        let (src, dst) = (IpAddr::V4(header.src), IpAddr::V4(header.dst));
        self.frame.ip_layers += 1;
        if self.frame.ip_layers == 1 {
            self.outer(src, dst);
            // A reassembled datagram counts whole (the header is the last fragment's).
            self.frame.esp_bytes = fragments.map_or(header.payload_len, |list| {
                list.iter()
                    .map(|f| usize::from(f.offset) + usize::from(f.len))
                    .max()
                    .unwrap_or(header.payload_len)
            });
            let Some(pair) = self.frame.pair else { return };
            let fragmented = header.is_fragment() || fragments.is_some();
            let tunnel = matches!(header.protocol, ipv4::Protocol::ESP | ipv4::Protocol::GRE);
            if fragmented && tunnel {
                let frames = fragments.map_or_else(
                    || vec![self.frame.seen.frame],
                    |list| list.iter().map(|f| f.frame).collect(),
                );
                for frame in frames {
                    push_evidence(&mut self.evidence.outer_fragments, (pair, frame));
                }
            } else if header.protocol == ipv4::Protocol::UDP
                && let Some(list) = fragments
            {
                self.frame.udp_fragments = list.iter().map(|f| f.frame).collect();
            }
            return;
        }
        if !self.frame.in_gre || self.frame.inner_seen {
            return;
        }
        // The first packet inside the GRE tunnel.
        self.frame.inner_seen = true;
        self.frame.inner_src = Some(src);
        let name = match header.protocol {
            ipv4::Protocol::EIGRP => "eigrp",
            ipv4::Protocol::ICMP => "icmp",
            ipv4::Protocol::TCP => "tcp",
            ipv4::Protocol::UDP => "udp",
            ipv4::Protocol::ESP => "esp",
            ipv4::Protocol::GRE => "gre",
            _ => "other",
        };
        self.inner_count(name, header.buffer_len());
        let data = !matches!(header.protocol, ipv4::Protocol::EIGRP) && !header.dst.is_multicast();
        if let (true, Some((outer_src, outer_dst))) = (data, self.frame.outer) {
            self.shortcut_leg(src, dst, outer_src, outer_dst);
            self.hairpin_check(
                (src, dst, header.ident, header.protocol.0),
                outer_src,
                outer_dst,
            );
        }
    }

    pub(super) fn ipv6(&mut self, header: &crate::capture::ipv6::Repr<'_>) {
        self.frame.ip_layers += 1;
        if self.frame.ip_layers != 1 {
            return;
        }
        self.outer(IpAddr::V6(header.src), IpAddr::V6(header.dst));
        // What the header says was sent: the payload less the extension headers.
        let bytes = usize::from(header.payload_len).saturating_sub(header.extensions.len());
        self.frame.esp_bytes = bytes;
        let Some(fragment) = header.fragment else {
            return;
        };
        if header.protocol != ipv4::Protocol::ESP {
            return;
        }
        // IPv6 is not reassembled: each fragment's share goes to the ESP packet's flow, which
        // its first fragment (offset 0, where the SPI is) names.
        let key = (header.src, header.dst, fragment.ident);
        self.frame.ipv6_fragment = Some((key, fragment.offset, bytes));
        if fragment.offset == 0 {
            return;
        }
        if self.ipv6_fragments.len() >= MAX_IPV6_FRAGMENTS
            && !self.ipv6_fragments.contains_key(&key)
        {
            self.ipv6_fragments.clear();
        }
        match self.ipv6_fragments.entry(key).or_insert(Err(0)) {
            Ok((pair, flow)) => {
                if let Some(flow) = self.pairs.get_mut(*pair).and_then(|p| p.esp.get_mut(*flow)) {
                    flow.packets.bytes += bytes as u64;
                }
            }
            Err(pending) => *pending += bytes,
        }
    }

    pub(super) fn hairpin_check(&mut self, key: InnerKey, outer_src: IpAddr, outer_dst: IpAddr) {
        if self.hairpin.len() >= MAX_HAIRPIN_KEYS {
            self.hairpin.clear();
        }
        let frame = self.frame.seen.frame;
        match self.hairpin.get(&key) {
            Some(&(first_src, first_dst, first_frame))
                if first_dst == outer_src && outer_dst != first_src =>
            {
                if self.evidence.hairpins.len() < MAX_EVIDENCE {
                    self.evidence.hairpins.push((
                        first_src,
                        first_dst,
                        outer_dst,
                        first_frame,
                        frame,
                    ));
                }
            }
            Some(_) => {}
            None => {
                self.hairpin.insert(key, (outer_src, outer_dst, frame));
            }
        }
    }

    pub(super) fn outer(&mut self, src: IpAddr, dst: IpAddr) {
        self.frame.outer = Some((src, dst));
        // A multicast packet belongs to its sender's pairs, once the sender has any.
        if is_group_address(dst)
            && let Some(list) = self.by_address.get(&src).filter(|l| !l.is_empty()).cloned()
        {
            for &index in &list {
                self.touch(index);
            }
            self.frame.pair = list.first().copied();
            self.frame.also = list.get(1..).unwrap_or_default().to_vec();
            return;
        }
        self.frame.pair = self.pair(src, dst);
    }

    pub(super) fn esp(&mut self, esp: &crate::decode::EspLayer) {
        let seen = self.frame.seen;
        self.frame.esp_seen = true;
        let (Some(pair_index), Some((src, dst))) = (self.frame.pair, self.frame.outer) else {
            return;
        };
        for frame in self.frame.udp_fragments.drain(..) {
            push_evidence(&mut self.evidence.outer_fragments, (pair_index, frame));
        }
        let Some(pair) = self.pairs.get_mut(pair_index) else {
            return;
        };
        let key = (pair_index, esp.spi, src, dst);
        let index = match self.esp_index.get(&key) {
            Some(&index) => index,
            None if pair.esp.len() < MAX_SPIS_PER_PAIR && self.esp_flows < MAX_SPIS => {
                pair.esp.push(EspFlow {
                    src: Some(src),
                    dst: Some(dst),
                    spi: esp.spi,
                    min_seq: esp.seq,
                    max_seq: esp.seq,
                    first: seen,
                    earliest: seen.time,
                    latest: seen.time,
                    ..EspFlow::default()
                });
                self.esp_flows += 1;
                self.esp_index.insert(key, pair.esp.len() - 1);
                pair.esp.len() - 1
            }
            None => {
                // Over the cap: counted, not itemised (the rules still see ICV failures and replays).
                pair.overflow.esp.add(self.frame.esp_bytes);
                if esp.status == EspStatus::IcvFailed {
                    push_evidence(&mut self.evidence.icv_failed, (pair_index, seen.frame));
                }
                if esp.replayed {
                    push_evidence(&mut self.evidence.replayed, (pair_index, seen.frame));
                }
                return;
            }
        };
        let Some(flow) = pair.esp.get_mut(index) else {
            return;
        };
        if let Some((key, 0, _)) = self.frame.ipv6_fragment {
            // The first fragment of an IPv6 ESP packet: later fragments add to this flow.
            let earlier = self.ipv6_fragments.insert(key, Ok((pair_index, index)));
            if let Some(Err(bytes)) = earlier {
                flow.packets.bytes += bytes as u64;
            }
        }
        let numbered = flow.packets.packets > flow.seq_unknown;
        flow.packets.add(self.frame.esp_bytes);
        flow.last = seen;
        flow.earliest = flow.earliest.min(seen.time);
        flow.latest = flow.latest.max(seen.time);
        if esp.status
            == (EspStatus::Cut {
                seq_captured: false,
            })
        {
            flow.seq_unknown += 1;
        } else if numbered {
            flow.min_seq = flow.min_seq.min(esp.seq);
            flow.max_seq = flow.max_seq.max(esp.seq);
        } else {
            (flow.min_seq, flow.max_seq) = (esp.seq, esp.seq);
        }
        match esp.status {
            EspStatus::Decrypted { .. } => flow.decrypted += 1,
            EspStatus::NoKey => flow.no_key += 1,
            EspStatus::IcvFailed => {
                flow.icv_failed += 1;
                push_evidence(&mut self.evidence.icv_failed, (pair_index, seen.frame));
            }
            _ => {}
        }
        if esp.replayed {
            flow.replays += 1;
            push_evidence(&mut self.evidence.replayed, (pair_index, seen.frame));
        }
    }

    /// An NHRP packet of which only the fixed header could be read (cut by the snapshot length,
    /// or malformed): it counts in the traffic (its packet size as sent) and says which side is
    /// the hub, but has no place in the timeline.
    pub(super) fn nhrp_header(&mut self, header: &nhrp::lax::FixedHeader) {
        let bytes = usize::from(header.packet_size).max(self.frame.gre_payload.unwrap_or(0));
        self.inner_count("nhrp", bytes);
        let hub = match header.op_type {
            nhrp::OpType::REGISTRATION_REQUEST => self.frame.outer.map(|(_, dst)| dst),
            nhrp::OpType::REGISTRATION_REPLY => self.frame.outer.map(|(src, _)| src),
            _ => None,
        };
        if let Some(hub) = hub {
            self.hubs.insert(hub);
        }
    }

    pub(super) fn nhrp(&mut self, repr: &nhrp::Repr<'_>) {
        // The message as sent: a message cut by the snapshot length parses short.
        let bytes = repr.buffer_len().max(self.frame.gre_payload.unwrap_or(0));
        self.inner_count("nhrp", bytes);
        self.shortcut_nhrp(repr);
        let seen = self.frame.seen;
        let Some(pair_index) = self.frame.pair else {
            return;
        };
        let mut auth = None;
        for extension in repr.extension_iter() {
            if let nhrp::extension::Value::Authentication(value) = extension.value {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                value.kind.0.hash(&mut hasher);
                value.data.hash(&mut hasher);
                auth = Some(hasher.finish());
            }
        }
        if auth.is_some() {
            push_evidence(&mut self.evidence.auth_frames, (pair_index, seen.frame));
        }
        let control = repr.message.control();
        let request_id = control.map_or(0, |c| c.request_id);
        let cie = repr.cies().first();
        let mut hub = None;
        let kind = match &repr.message {
            nhrp::Message::RegistrationRequest(c) => {
                hub = self.frame.outer.map(|(_, dst)| dst);
                NhrpKind::RegistrationRequest {
                    request_id,
                    hold_time: cie.map_or(0, |cie| cie.holding_time),
                    unique: c.flags.contains(nhrp::Flags::REGISTRATION_UNIQUE),
                    refresh: false,
                }
            }
            nhrp::Message::RegistrationReply(_) => {
                hub = self.frame.outer.map(|(src, _)| src);
                let code = cie.map_or(nhrp::CieCode(0), |cie| cie.code);
                NhrpKind::RegistrationReply {
                    request_id,
                    code: code.0,
                    code_name: code.name().unwrap_or("unknown"),
                    hold_time: cie.map_or(0, |cie| cie.holding_time),
                }
            }
            nhrp::Message::ResolutionRequest(_) => NhrpKind::ResolutionRequest { request_id },
            nhrp::Message::ResolutionReply(_) => {
                self.evidence.resolution_seen = true;
                NhrpKind::ResolutionReply {
                    request_id,
                    code: cie.map_or(0, |cie| cie.code.0),
                }
            }
            nhrp::Message::PurgeRequest(_) => NhrpKind::PurgeRequest { request_id },
            nhrp::Message::PurgeReply(_) => NhrpKind::PurgeReply { request_id },
            nhrp::Message::ErrorIndication(error) => {
                if error.code.canonical() == nhrp::ErrorCode::AUTHENTICATION_FAILURE {
                    push_evidence(&mut self.evidence.auth_errors, (pair_index, seen.frame));
                }
                NhrpKind::ErrorIndication {
                    code: error.code.0,
                    code_name: error.code.canonical().name().unwrap_or("unknown"),
                }
            }
            nhrp::Message::TrafficIndication(_) => {
                self.evidence.resolution_seen = true;
                NhrpKind::TrafficIndication
            }
        };
        if let Some(hub) = hub {
            self.hubs.insert(hub);
        }
        let Some((pair, from, _)) = self.current() else {
            return;
        };
        let side = pair.side(from);
        if let Some(fingerprint) = auth {
            pair.nhrp.auth[side] = Some(fingerprint);
        }
        let timeline = &mut pair.nhrp;
        let mut tunnel = None;
        let kind = match kind {
            NhrpKind::RegistrationRequest {
                request_id,
                hold_time,
                unique,
                ..
            } => {
                timeline.requests += 1;
                let refresh = timeline.last_success.is_some();
                timeline.refreshes += u64::from(refresh);
                if let (Ok(proto), Some(nbma)) =
                    (ip_from(repr.src_proto), ip_from(repr.src_nbma.bytes).ok())
                    && (pair.tunnel.len() < MAX_TUNNEL_BINDINGS || pair.tunnel.contains_key(&proto))
                {
                    pair.tunnel.insert(proto, nbma);
                    tunnel = Some(proto);
                }
                NhrpKind::RegistrationRequest {
                    request_id,
                    hold_time,
                    unique,
                    refresh,
                }
            }
            NhrpKind::RegistrationReply {
                code, hold_time, ..
            } => {
                if code == 0 {
                    timeline.successes += 1;
                    timeline.last_success = Some(seen);
                    timeline.last_hold_time = Some(hold_time);
                } else {
                    timeline.refusals += 1;
                }
                kind
            }
            other => other,
        };
        pair.nhrp.push(NhrpEvent { seen, from, kind });
        if let Some(tunnel) = tunnel {
            self.remember(tunnel, pair_index);
        }
    }

    pub(super) fn eigrp(&mut self, repr: &eigrp::Repr<'_>) {
        let seen = self.frame.seen;
        let router = self.frame.inner_src;
        let pair_index = self.frame.pair;
        let Some((pair, from, _)) = self.current() else {
            return;
        };
        let side = &mut pair.eigrp[pair.side(from)];
        let new_router = side.router.is_none().then_some(router).flatten();
        side.router = side.router.or(router);
        if let (Some(router), Some(index)) = (new_router, pair_index) {
            self.remember(router, index);
        }
        let Some((pair, from, _)) = self.current() else {
            return;
        };
        let side = &mut pair.eigrp[pair.side(from)];
        if repr.opcode == eigrp::OpCode::HELLO {
            let parameters = repr.tlvs.iter().find_map(|tlv| match tlv {
                eigrp::tlv::Tlv::Parameters(p) => Some(p),
                _ => None,
            });
            if let Some(parameters) = parameters {
                if parameters.is_goodbye() {
                    side.goodbyes += 1;
                    if side.downs.len() < MAX_EVIDENCE {
                        side.downs.push((seen.frame, seen.frame));
                    }
                } else {
                    // A gap longer than the hold time the side announced: the neighbour dropped
                    // it. Measured from the latest hello so far, so time going back makes none.
                    if let (Some(latest), Some(hold)) = (side.latest_hello, side.hold_time)
                        && seen.time.saturating_duration_since(latest.time)
                            > Duration::from_secs(u64::from(hold))
                        && side.downs.len() < MAX_EVIDENCE
                    {
                        side.downs.push((latest.frame, seen.frame));
                    }
                    side.hellos += 1;
                    side.first_hello.get_or_insert(seen);
                    side.last_hello = Some(seen);
                    if side
                        .latest_hello
                        .is_none_or(|latest| seen.time >= latest.time)
                    {
                        side.latest_hello = Some(seen);
                    }
                    side.hold_time = Some(parameters.hold_time);
                    match side.k {
                        None => side.k = Some(parameters.k),
                        Some(k) if k != parameters.k && side.k_changes.len() < MAX_EVIDENCE => {
                            side.k_changes.push((seen.frame, parameters.k));
                        }
                        Some(_) => {}
                    }
                    match side.autonomous_system {
                        None => side.autonomous_system = Some(repr.autonomous_system),
                        Some(asn)
                            if asn != repr.autonomous_system
                                && side.as_changes.len() < MAX_EVIDENCE =>
                        {
                            side.as_changes.push((seen.frame, repr.autonomous_system));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        if repr.opcode == eigrp::OpCode::UPDATE {
            if repr.routes().next().is_some() && side.updates.len() < MAX_EVIDENCE {
                side.updates.push(seen.frame);
            }
            for route in repr.routes() {
                if !route.metric.is_unreachable() && side.routes.len() < 4096 {
                    side.routes
                        .insert((route.destination.prefix, route.destination.prefix_len));
                }
            }
        }
    }

    pub(super) fn tcp(&mut self, tcp: &crate::transport::Tcp) {
        const SYN: u16 = 0x02;
        if !self.frame.in_gre || tcp.flags & SYN == 0 {
            return;
        }
        if let (Some(mss), Some(pair)) = (tcp.mss, self.frame.pair)
            && mss > MAX_TUNNEL_MSS
            && self.evidence.big_mss.len() < MAX_EVIDENCE
        {
            self.evidence
                .big_mss
                .push((pair, self.frame.seen.frame, mss));
        }
    }

    pub(super) fn isakmp(&mut self, layer: &IsakmpLayer<'_>) {
        // IKEv2: its own records (builder/ikev2.rs).
        if let Some(v2) = layer.ikev2 {
            return self.ikev2(v2);
        }
        let seen = self.frame.seen;
        let check_psk = self.psks.is_some();
        let Some(pair_index) = self.frame.pair else {
            return;
        };
        let Some((src, _)) = self.frame.outer else {
            return;
        };
        let Some(pair) = self.pairs.get_mut(pair_index) else {
            return;
        };
        let header = &layer.message.header;
        let key = (pair_index, header.initiator_cookie);
        let index = match self.ike_index.get(&key) {
            Some(&index) => index,
            None if pair.ike.len() < MAX_IKE_SAS_PER_PAIR && self.ike_sas < MAX_IKE_SAS => {
                pair.ike.push(IkeSa {
                    icookie: header.initiator_cookie,
                    first: seen,
                    ..IkeSa::default()
                });
                self.ike_sas += 1;
                self.ike_index.insert(key, pair.ike.len() - 1);
                pair.ike.len() - 1
            }
            None => {
                pair.overflow.ike_messages += 1;
                return;
            }
        };
        let Some(sa) = pair.ike.get_mut(index) else {
            return;
        };
        sa.messages += 1;
        sa.last = seen;
        if sa.rcookie == [0; 8] {
            sa.rcookie = header.responder_cookie;
        }
        let exchange = header.exchange_type;
        let phase1 = matches!(
            exchange,
            isakmp::ExchangeType::MAIN | isakmp::ExchangeType::AGGRESSIVE
        );
        if phase1 {
            sa.exchange = exchange.name();
            if header.responder_cookie == [0; 8] {
                sa.initiator.get_or_insert(src);
            }
            sa.phase1_messages = sa.phase1_messages.saturating_add(1);
            // Aggressive Mode completes with its third message.
            if exchange == isakmp::ExchangeType::AGGRESSIVE && sa.phase1_messages == 3 {
                sa.established.get_or_insert(seen);
            }
        }
        if exchange == isakmp::ExchangeType::QUICK {
            sa.established.get_or_insert(seen);
        }
        if exchange == isakmp::ExchangeType::MAIN && layer.message.is_encrypted() {
            let from_initiator = sa.initiator.is_none_or(|initiator| initiator == src);
            sa.encrypted_main_mode[usize::from(!from_initiator)] += 1;
            // Main Mode completes with the responder's encrypted message 6.
            if !from_initiator {
                sa.established.get_or_insert(seen);
            }
            if from_initiator && sa.main_mode_5.len() < MAX_EVIDENCE {
                sa.main_mode_5.push(seen.frame);
            }
        }
        let from_responder = sa.initiator.is_some_and(|initiator| initiator != src);
        let side = usize::from(from_responder);
        if phase1 && check_psk && sa.handshake.is_none() {
            sa.handshake = Some(Box::default());
        }
        let mut handshake = if phase1 {
            sa.handshake.as_deref_mut()
        } else {
            None
        };
        let mut child = None;
        if exchange == isakmp::ExchangeType::QUICK {
            child = sa
                .phase2
                .iter()
                .position(|c| c.message_id == header.message_id);
            if child.is_none() && sa.phase2.len() < MAX_EVENTS {
                sa.phase2.push(ChildSa {
                    message_id: header.message_id,
                    first: seen,
                    initiator: Some(src),
                    ..ChildSa::default()
                });
                child = Some(sa.phase2.len() - 1);
            }
        }
        let payloads = layer.payloads();
        if let Some(child) = child.and_then(|index| sa.phase2.get_mut(index)) {
            child.messages += 1;
            child.undecrypted += u64::from(payloads.is_none());
            if child.initiator == Some(src) {
                // The initiator's message after the responder's answer: Quick Mode 3.
                if child.answered && child.completed.is_none() {
                    child.completed = Some(seen);
                }
            } else {
                child.answered = true;
            }
        }
        let Some(payloads) = payloads else {
            sa.undecrypted += 1;
            return;
        };
        let mut context = layer.message.context(layer.nat_d);
        context.nat_d = isakmp::message::learn_nat_d(payloads.clone(), context.nat_d);
        let mut no_proposal = None;
        for payload in payloads {
            let Ok(payload) = payload else { break };
            let Ok(body) = payload.decode(context) else {
                break;
            };
            if let Some(handshake) = handshake.as_deref_mut() {
                match body {
                    isakmp::Body::Sa(_) if !from_responder => handshake.sa(payload.body),
                    isakmp::Body::Ke(ke) => handshake.ke(side, ke),
                    isakmp::Body::Nonce(nonce) => handshake.nonce(side, nonce),
                    isakmp::Body::Id(_) => handshake.id(side, payload.body),
                    isakmp::Body::Hash(hash) => handshake.auth_hash(side, seen.frame, hash),
                    _ => {}
                }
            }
            match body {
                isakmp::Body::Sa(body) if phase1 => {
                    if let Ok(Some(policy)) = body.ike_policy()
                        && (from_responder || !sa.proposal_accepted)
                    {
                        sa.proposal = Some(diagnose::ios_policy(&policy));
                        sa.proposal_accepted = from_responder;
                        sa.lifetime = policy.life_seconds;
                        if let Some(handshake) = handshake.as_deref_mut() {
                            handshake.hash = Some(policy.hash);
                            handshake.prf = policy.prf;
                            handshake.auth = Some(policy.auth);
                        }
                    }
                }
                isakmp::Body::Sa(body) if exchange == isakmp::ExchangeType::QUICK => {
                    let id = header.message_id;
                    if let Some(child) = sa.phase2.iter_mut().find(|c| c.message_id == id) {
                        diagnose::read_child(&body, child);
                    }
                }
                isakmp::Body::Notify(notify) => {
                    if matches!(
                        notify.ty,
                        isakmp::consts::NotifyType::R_U_THERE
                            | isakmp::consts::NotifyType::R_U_THERE_ACK
                    ) {
                        sa.dpd_messages += 1;
                    } else {
                        if notify.ty == isakmp::consts::NotifyType::NO_PROPOSAL_CHOSEN {
                            // Phase 2 when it names ESP/AH, or comes under phase 1 encryption.
                            let phase2 = matches!(
                                notify.protocol,
                                isakmp::consts::ProtocolId::ESP | isakmp::consts::ProtocolId::AH
                            ) || layer.message.is_encrypted();
                            no_proposal = Some(phase2);
                        }
                        let name = notify
                            .ty
                            .name()
                            .map_or_else(|| notify.ty.0.to_string(), str::to_owned);
                        if sa.notifications.len() < MAX_EVIDENCE {
                            sa.notifications.push((seen, name));
                        }
                    }
                }
                isakmp::Body::Delete(delete) => {
                    let spis = delete
                        .spis
                        .chunks_exact(4)
                        .filter(|_| delete.spi_size == 4)
                        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    if sa.deletes.len() < MAX_EVIDENCE {
                        sa.deletes
                            .push((seen, delete.protocol.name().unwrap_or("?"), spis));
                    }
                }
                isakmp::Body::VendorId(vid)
                    if isakmp::vendor::identify(vid).is_some_and(|v| v.name == "RFC 3706 DPD") =>
                {
                    sa.dpd = true;
                }
                _ => {}
            }
        }
        if let Some(phase2) = no_proposal {
            let list = if phase2 {
                &mut self.evidence.no_transform
            } else {
                &mut self.evidence.no_proposal
            };
            push_evidence(list, (pair_index, seen.frame));
        }
    }
}
