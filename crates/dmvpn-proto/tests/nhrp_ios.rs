//! Byte-for-byte comparison with Cisco IOS: the client's Registration Request and the server's
//! Registration Reply against a real IOS spoke and hub.

use std::net::Ipv4Addr;

use dmvpn_nhrp as nhrp;
use dmvpn_proto::Instant;
use dmvpn_proto::nhrp::{Client, ClientConfig, ClientEvent, Nhs, Password, Server, ServerConfig};

const SPOKE_NBMA: Ipv4Addr = Ipv4Addr::new(172, 16, 25, 2);
const SPOKE_TUNNEL: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 2);
const HUB_NBMA: Ipv4Addr = Ipv4Addr::new(172, 16, 15, 2);
const HUB_TUNNEL: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);

dmvpn_wire::hex_consts! {
    /// packetlife `NHRP_registration.cap` frame 1 (the GRE payload): an IOS spoke's Registration
    /// Request, ID 6, holding time 7200, MTU 1514, unique and NAT flags.
    const IOS_REQUEST: [u8; 92] = "000108000000000000ff005c79fe0034010304000404800200000006ac101902c0a80002c0a8000100ff000005ea1c2000000000800300008004000080050000000900140020000005ea000004000400ac100f02c0a8000180000000";

    /// The same capture, frame 3: the IOS hub's Registration Reply to it.
    const IOS_REPLY: [u8; 112] = "000108000000000000ff0070d40e0034010404000404800200000006ac101902c0a80002c0a8000100ff000005ea1c2000000000800300140000000005ea1c2004000400ac100f02c0a800018004000080050000000900140020000005ea000004000400ac100f02c0a8000180000000";
}

/// The spoke of packetlife's capture, whose first request ID is 6.
fn ios_spoke() -> Client {
    let nhs = Nhs {
        tunnel: HUB_TUNNEL,
        nbma: HUB_NBMA,
    };
    Client::new(
        ClientConfig::new(SPOKE_TUNNEL, SPOKE_NBMA, vec![nhs]),
        Instant::ZERO,
        6,
    )
}

#[test]
fn registration_request_is_what_ios_sends() {
    let mut client = ios_spoke();
    let request = client.poll_transmit().unwrap();
    assert_eq!(request.to, HUB_NBMA);
    assert_eq!(request.bytes, IOS_REQUEST);
}

#[test]
fn registration_reply_is_what_an_ios_hub_sends() {
    let mut hub = Server::new(ServerConfig::new(HUB_TUNNEL, HUB_NBMA), 1);
    let request = nhrp::parse(&IOS_REQUEST).unwrap();
    hub.handle_message(Instant::ZERO, SPOKE_NBMA, &request)
        .unwrap();
    let reply = hub.poll_transmit().unwrap();
    assert_eq!(reply.to, SPOKE_NBMA);
    assert_eq!(reply.bytes, IOS_REPLY);
}

#[test]
fn client_accepts_the_ios_reply() {
    let mut client = ios_spoke();
    let reply = nhrp::parse(&IOS_REPLY).unwrap();
    client
        .handle_message(Instant::from_millis(24), HUB_NBMA, &reply)
        .unwrap();
    assert!(matches!(
        client.poll_event(),
        Some(ClientEvent::Registered {
            nat_address: None,
            ..
        })
    ));
    assert!(client.is_registered());
}

dmvpn_wire::hex_consts! {
    /// tcpdump `tests/NHRP_registration.pcap` frame 1 (the GRE payload after the key): an IOS
    /// spoke's Registration Request with `ip nhrp authentication NHRPAUTH`, ID 1, MTU 17912.
    const IOS_AUTH_REQUEST: [u8; 108] = "000108000000000000ff006c197b0034010304000404800200000001a9fe64019b0100019b0100050020000045f81c20000000008003000080040000800500008007000c000000014e48525041555448000900140020000045f8000004000400a9fe64059b01000580000000";

    /// The same capture, frame 2: the hub's reply.
    const IOS_AUTH_REPLY: [u8; 128] = "000108000000000000ff0080060f0034010404000404800200000001a9fe64019b0100019b0100050020000045f81c2000000000800300140020000045f81c2004000400a9fe64059b01000580040000800500008007000c000000014e48525041555448000900140020000045f8000004000400a9fe64059b01000580000000";
}

/// This IOS release writes prefix length 32 (not 0xff) with the unique flag, so the mandatory
/// parts differ in that byte; the extensions, Authentication in its place, are identical.
#[test]
fn authentication_extension_is_where_ios_puts_it() {
    let mut config = ClientConfig::new(
        Ipv4Addr::new(155, 1, 0, 1),
        Ipv4Addr::new(169, 254, 100, 1),
        vec![Nhs {
            tunnel: Ipv4Addr::new(155, 1, 0, 5),
            nbma: Ipv4Addr::new(169, 254, 100, 5),
        }],
    );
    config.mtu = 17912;
    config.password = Some(Password::new(b"NHRPAUTH").unwrap());
    let mut client = Client::new(config.clone(), Instant::ZERO, 1);
    let request = client.poll_transmit().unwrap();
    let extoff = usize::from(
        nhrp::Packet::new_checked(&IOS_AUTH_REQUEST[..])
            .unwrap()
            .extension_offset(),
    );
    assert_eq!(request.bytes.len(), IOS_AUTH_REQUEST.len());
    assert_eq!(request.bytes[extoff..], IOS_AUTH_REQUEST[extoff..]);

    // A hub with the same password accepts the IOS request and answers with the extensions in
    // the order the IOS hub used; the spoke accepts the IOS hub's reply.
    let mut hub = ServerConfig::new(Ipv4Addr::new(155, 1, 0, 5), Ipv4Addr::new(169, 254, 100, 5));
    hub.password = config.password.clone();
    hub.mtu = 17912;
    let mut hub = Server::new(hub, 1);
    hub.handle_message(
        Instant::ZERO,
        config.nbma,
        &nhrp::parse(&IOS_AUTH_REQUEST).unwrap(),
    )
    .unwrap();
    let ours = hub.poll_transmit().unwrap();
    let ios = nhrp::parse(&IOS_AUTH_REPLY).unwrap();
    let ours = ours.parse().unwrap();
    assert_eq!(
        ours.extension_types().collect::<Vec<_>>(),
        ios.extension_types().collect::<Vec<_>>()
    );
    assert_eq!(
        ours.extensions.unwrap().authentication(),
        ios.extensions.unwrap().authentication()
    );
    let mut client = Client::new(config, Instant::ZERO, 1);
    client
        .handle_message(Instant::ZERO, Ipv4Addr::new(169, 254, 100, 5), &ios)
        .unwrap();
    assert!(client.is_registered());
}
