/** `dvs-agent --help`: the manual page of the agent. */
export const AGENT_HELP = `NAME
    dvs-agent - the dvs per-host learning switch over VXLAN / GRE-in-UDP

SYNOPSIS
    dvs-agent --config FILE [OPTIONS]
    dvs-agent --host ID --vtep-address ADDR [--network SPEC]... [--port SPEC]... [OPTIONS]

DESCRIPTION
    dvs-agent plugs local devices (VM NICs: TAPs it creates, TAPs QEMU holds,
    veth ends, macvlans, NICs) into one learning L2 switch per VNI and carries
    frames to other hosts in VXLAN (RFC 7348, UDP 4789) or
    GRE-in-UDP (RFC 8086, UDP 4754) tunnels. Peers, flood lists and static FDB
    entries come from the config file, or from etcd when an etcd: section is
    given. A unix admin socket serves noun/verb commands (list-commands lists
    them); Prometheus metrics are served over HTTP when --metrics is set.

    Flags override the config file; --network, --peer and --port add to it.
    An invalid configuration prints one error naming the field and the fix
    (code DVS_CONFIG_INVALID) and exits 2 before anything is started.

OPTIONS
    -c, --config FILE        YAML config (JSON works too). See docs/agent.md and
                             deploy/examples/agent.yaml for every field.
    --host ID                host id (config: host), e.g. host-a
    --label KEY=VALUE        a label of this host (config: labels), repeatable;
                             published in its etcd host record, where a
                             network's allowed labels may admit it
    --vtep-address ADDR      underlay IPv4 or IPv6 address to bind (vtep.address)
    --vxlan-port N           VXLAN UDP port, default 4789 (vtep.vxlanPort)
    --gre-port N             GRE-in-UDP UDP port, default 4754 (vtep.grePort)
    --network VNI[:ENCAP[:MTU]]
                             add or change a network, e.g. 100:vxlan:1450;
                             ENCAP is vxlan (default) or gre-udp; MTU is the
                             overlay MTU, default 1450
    --peer VNI=ADDR[:PORT]   add a peer VTEP to a network (also flood list);
                             IPv6 with a port as [ADDR]:PORT
    --port NAME=MAPPING[/create|adopt|attach][/persistent]
                             add a port; MAPPING is a VNI (access port) or
                             trunk:VLAN=VNI,VLAN=VNI...; create (default) makes
                             the TAP (/persistent: it outlives the agent), adopt
                             takes an existing TAP nobody holds, attach uses an
                             existing device someone else holds or owns (a TAP
                             QEMU holds, a veth end, a macvlan, a NIC)
    --admin-socket PATH      admin socket, default /run/dvs/agent.sock (mode 0600)
    --state-file PATH|off    where ports added at run time are kept across
                             restarts, default /var/lib/dvs/agent-state.json
    --metrics HOST:PORT      Prometheus endpoint (GET /metrics); off by default
    --log-level LEVEL        debug, info (default), warn, error
    --log-format FORMAT      json (default) or logfmt; logs go to stderr
    --aging SECONDS          FDB aging, default 300
    --fdb-limit N            learned FDB entries per VNI, default 8192
    --check                  validate the configuration (file and flags), say
                             whether the native addon loads, and exit: 0 valid,
                             2 invalid; nothing is started
    -h, --help               this page
    -V, --version            print the version

MTU
    The overlay MTU of a network must leave room for the tunnel: for VXLAN or
    GRE-in-UDP over IPv4 it is the underlay MTU - 50 (1450 on a 1500-byte
    underlay), over IPv6 the underlay MTU - 70 (1430). Frames larger than
    the overlay MTU are dropped and counted (drop reason mtu). TAPs the agent
    creates get the overlay MTU; an adopted or attached device with a larger
    MTU is logged as a warning and shown by ports/show.

PORTS
    A port whose device disappears (the VM quits, the pod dies, the TAP is
    deleted) goes gone: out of the switch, its MACs withdrawn, one log line;
    it stays configured, and a device of the same name coming back is
    attached again. Ports added at run time that the agent can get back
    (attach, adopt, persistent TAPs) are kept in the state file and restored
    on start, after a crash as after a clean stop; a corrupt state file is
    kept aside (FILE.corrupt-TIME) and the agent starts with its config's ports.

SIGNALS
    SIGTERM, SIGINT   stop reading, close the admin socket and metrics, delete
                      the TAPs the agent created (not persistent ones), leave
                      adopted TAPs and attached devices, exit 0.

ENVIRONMENT
    DVS_STAGE_TRACE=FILE  time-stamp every frame at the native I/O edges (poll
                      wake-up, TAP read, send, receive, TAP write) and write
                      the records to FILE as JSON at stop; for the latency
                      breakdown (npm run bench -- datapath --stages).

EXIT STATUS
    0 after a clean stop, 1 when starting failed (a device or socket could not
    be opened), 2 for an invalid configuration.

EXAMPLES
    dvs-agent --config /etc/dvs/agent.yaml
    dvs-agent --host host-a --vtep-address 198.51.100.1 \\
        --network 100 --peer 100=198.51.100.2 --port tap0=100
    dvs agent fdb 100           (the dvs CLI over the admin socket)
`;
