// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock through the test driver, with real unix sockets on the host
 * side: guest-to-host connections (PATH_P), host-to-guest ones (CONNECT P
 * on PATH), data both ways, credit flow control both ways, RST for refused
 * ports and unknown connections, malformed packets (bad length, unknown
 * op, wrong CID or type, wrong directions), reset, handshake time-outs,
 * the CONNECT line parser and --vsock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_vsock.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "cli/config.h"
#include "machine/vm.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_vsock.h"
#include "virtio/virtio_vsock_pkt.h"
#include "virtio_stat.h"
#include "virtio_test_driver.h"

#define RX		0
#define TX		1
#define EVQ		2
#define QSIZE		128
#define CID		3
#define HDR		44
#define RXDATA		4096
#define NR_RX		32
#define GROUP		"virtio-vsock"
#define OUR_BUF_ALLOC	(128 * 1024)

struct fixture {
	struct vm *vm;
	struct vtd_dev d;
	char dir[32];
	char path[80];
	u64 tx;			/* transmit area: header + up to 64 KiB */
	u64 rx_hdr[QSIZE];	/* by head: where each receive chain's parts are */
	u64 rx_data[QSIZE];
	u64 rx_area;
	unsigned int rx_next;	/* round robin over NR_RX slots of the area */
};

static struct fixture fx;

static void post_rx(struct fixture *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		u64 slot = f->rx_area + (u64)(f->rx_next++ % (2 * NR_RX)) * (HDR + RXDATA);
		/* As Linux 6.1 posts them: the header and the data apart. */
		struct vtd_buf b[2] = { { slot, HDR, true }, { slot + HDR, RXDATA, true } };
		u16 head = f->d.q[RX].next_desc;

		f->rx_hdr[head] = slot;
		f->rx_data[head] = slot + HDR;
		vtd_add_chain(&f->d, RX, b, 2, false);
	}
	vtd_kick(&f->d, RX);
}

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, "/tmp/kiln-vsock-XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	snprintf(fx.path, sizeof(fx.path), "%s/v.sock", fx.dir);
	fx.vm = vtd_vm_create();
	if (!fx.vm || !virtio_vsock_create(fx.vm, CID, fx.path) ||
	    vtd_probe(fx.vm, VIRTIO_ID_VSOCK, &fx.d) || vtd_negotiate(&fx.d, ~0ULL))
		return -1;
	vtd_enable_msix(&fx.d);
	vtd_common_write(&fx.d, VIRTIO_PCI_COMMON_MSIX, 3, 2);
	for (unsigned int q = 0; q < 3; q++)
		if (vtd_setup_queue(&fx.d, q, QSIZE, q))
			return -1;
	vtd_driver_ok(&fx.d);
	fx.tx = vtd_alloc(fx.vm, HDR + 64 * KiB + 64, 4096);
	fx.rx_area = vtd_alloc(fx.vm, 2 * NR_RX * (HDR + RXDATA), 4096);
	post_rx(&fx, NR_RX);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	vtd_vm_destroy(f->vm);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	return system(cmd) ? -1 : 0;
}

static bool needs_reset(struct fixture *f)
{
	return vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

struct pkt {
	u64 src_cid, dst_cid;
	u32 src_port, dst_port;
	u16 op, type;
	u32 flags, buf_alloc, fwd_cnt;
	u32 len;		/* in the header */
	u32 payload_len;	/* bytes actually in the chain, if not len */
};

/* Sends one packet from the guest; waits for the device to take it. */
static void send_pkt(struct fixture *f, const struct pkt *p, const void *payload)
{
	struct virtio_vsock_hdr h = {
		.src_cid = p->src_cid ? p->src_cid : CID, .dst_cid = p->dst_cid ? p->dst_cid : 2,
		.src_port = p->src_port, .dst_port = p->dst_port, .len = p->len,
		.type = p->type ? p->type : VIRTIO_VSOCK_TYPE_STREAM, .op = p->op,
		.flags = p->flags, .buf_alloc = p->buf_alloc, .fwd_cnt = p->fwd_cnt,
	};
	u32 plen = p->payload_len ? p->payload_len : p->len;
	struct vtd_buf b[2] = { { f->tx, HDR, false }, { f->tx + HDR + 64, plen, false } };
	u32 id, len;

	vtd_mem_write(f->vm, f->tx, &h, HDR);
	if (plen)
		vtd_mem_write(f->vm, f->tx + HDR + 64, payload, plen);
	vtd_add_chain(&f->d, TX, b, plen ? 2 : 1, false);
	vtd_kick(&f->d, TX);
	assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
}

/* The next packet for the guest, within timeout_ms; its payload into data. */
static bool recv_pkt(struct fixture *f, struct virtio_vsock_hdr *h, void *data,
		     unsigned int timeout_ms)
{
	u32 id, len;

	if (vtd_wait_used(&f->d, RX, timeout_ms, &id, &len))
		return false;
	assert_true(len >= HDR);
	vtd_mem_read(f->vm, f->rx_hdr[id], h, HDR);
	assert_int_equal(len, HDR + h->len);
	assert_true(h->len <= RXDATA);
	if (h->len && data)
		vtd_mem_read(f->vm, f->rx_data[id], data, h->len);
	post_rx(f, 1);
	return true;
}

/* Waits for a packet with op, skipping credit updates. */
static void expect_op(struct fixture *f, u16 op, struct virtio_vsock_hdr *h, void *data)
{
	for (;;) {
		assert_true(recv_pkt(f, h, data, 3000));
		if (h->op == op)
			break;
		assert_int_equal(h->op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	}
	assert_int_equal(h->src_cid, 2);
	assert_int_equal(h->dst_cid, CID);
	assert_int_equal(h->type, VIRTIO_VSOCK_TYPE_STREAM);
}

static void expect_nothing(struct fixture *f, unsigned int ms)
{
	struct virtio_vsock_hdr h;

	assert_false(recv_pkt(f, &h, NULL, ms));
}

static int host_listen(struct fixture *f, u32 port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", f->path, port);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 4), 0);
	return s;
}

static int host_connect(struct fixture *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(a.sun_path, f->path);
	assert_true(s >= 0);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

/* Reads exactly len bytes from fd within 3 s. */
static void read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, 3000), 1);
		n = read(fd, (u8 *)buf + got, len - got);
		assert_true(n > 0);
		got += n;
	}
}

static bool eof_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && read(fd, &c, 1) <= 0;
}

/* A guest connection to the host's port: returns the host's end. */
static int guest_connect(struct fixture *f, int listener, u32 gport, u32 hport, u32 buf_alloc)
{
	struct pkt req = { .op = VIRTIO_VSOCK_OP_REQUEST, .src_port = gport, .dst_port = hport,
			   .buf_alloc = buf_alloc };
	struct virtio_vsock_hdr h;
	int s;

	send_pkt(f, &req, NULL);
	expect_op(f, VIRTIO_VSOCK_OP_RESPONSE, &h, NULL);
	assert_int_equal(h.src_port, hport);
	assert_int_equal(h.dst_port, gport);
	assert_int_equal(h.buf_alloc, OUR_BUF_ALLOC);
	s = accept(listener, NULL, NULL);
	assert_true(s >= 0);
	return s;
}

static void test_config(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vtd_bar_read(&f->d, f->d.device, 8), CID);
	assert_int_equal(f->d.features >> 32, 1);	/* VERSION_1, no SEQPACKET */
}

static void test_guest_to_host(void **state)
{
	struct fixture *f = *state;
	int l = host_listen(f, 1234), s = guest_connect(f, l, 5000, 1234, 65536);
	struct pkt rw = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 5000, .dst_port = 1234,
			  .len = 10, .buf_alloc = 65536 };
	struct pkt bye = { .op = VIRTIO_VSOCK_OP_SHUTDOWN, .src_port = 5000, .dst_port = 1234,
			   .flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND };
	struct virtio_vsock_hdr h;
	char got[32] = { 0 };

	send_pkt(f, &rw, "hello host");
	read_all(s, got, 10);
	assert_memory_equal(got, "hello host", 10);
	assert_int_equal(write(s, "hello guest", 11), 11);
	expect_op(f, VIRTIO_VSOCK_OP_RW, &h, got);
	assert_int_equal(h.len, 11);
	assert_memory_equal(got, "hello guest", 11);
	assert_int_equal(h.fwd_cnt, 10);	/* the guest's 10 bytes went out */
	/* A full shutdown is answered with RST, and the host sees the end. */
	send_pkt(f, &bye, NULL);
	expect_op(f, VIRTIO_VSOCK_OP_RST, &h, NULL);
	assert_true(eof_within(s, 2000));
	assert_int_equal(vm_stat(f->vm, GROUP, "connections_open"), 0);
	close(s);
	close(l);
}

static void test_refused_port(void **state)
{
	struct fixture *f = *state;
	struct pkt req = { .op = VIRTIO_VSOCK_OP_REQUEST, .src_port = 6000, .dst_port = 999 };
	struct virtio_vsock_hdr h;

	send_pkt(f, &req, NULL);
	expect_op(f, VIRTIO_VSOCK_OP_RST, &h, NULL);
	assert_int_equal(h.src_port, 999);
	assert_int_equal(h.dst_port, 6000);
	assert_int_equal(vm_stat(f->vm, GROUP, "refused"), 1);
}

/* A host program connects to PATH and asks for the guest's port 4321. */
static int host_to_guest(struct fixture *f, const char *line, u32 *local_port)
{
	int s = host_connect(f);
	struct virtio_vsock_hdr h;
	struct pkt resp = { .op = VIRTIO_VSOCK_OP_RESPONSE, .src_port = 4321,
			    .buf_alloc = 65536 };
	char ok[32] = { 0 }, want[32];

	assert_int_equal(write(s, line, strlen(line)), (ssize_t)strlen(line));
	expect_op(f, VIRTIO_VSOCK_OP_REQUEST, &h, NULL);
	assert_int_equal(h.dst_port, 4321);
	assert_true(h.src_port >= 1U << 30);
	*local_port = h.src_port;
	resp.dst_port = h.src_port;
	send_pkt(f, &resp, NULL);
	snprintf(want, sizeof(want), "OK %u\n", h.src_port);
	read_all(s, ok, strlen(want));
	assert_string_equal(ok, want);
	return s;
}

static void test_host_to_guest(void **state)
{
	struct fixture *f = *state;
	u32 port;
	int s = host_to_guest(f, "CONNECT 4321\nearly", &port);
	struct pkt rw = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 4321, .dst_port = port,
			  .len = 4, .buf_alloc = 65536 };
	struct virtio_vsock_hdr h;
	char got[16] = { 0 };

	/* What followed the CONNECT line was kept for the guest. */
	expect_op(f, VIRTIO_VSOCK_OP_RW, &h, got);
	assert_int_equal(h.len, 5);
	assert_memory_equal(got, "early", 5);
	assert_int_equal(h.src_port, port);
	send_pkt(f, &rw, "pong");
	read_all(s, got, 4);
	assert_memory_equal(got, "pong", 4);
	/* The host hangs up: the guest hears that no more is coming. */
	close(s);
	expect_op(f, VIRTIO_VSOCK_OP_SHUTDOWN, &h, NULL);
	assert_true(h.flags & VIRTIO_VSOCK_SHUTDOWN_SEND);
}

static void test_host_to_guest_refused(void **state)
{
	struct fixture *f = *state;
	int s = host_connect(f);
	struct virtio_vsock_hdr h;
	struct pkt rst = { .op = VIRTIO_VSOCK_OP_RST, .src_port = 4321 };

	assert_int_equal(write(s, "CONNECT 4321\n", 13), 13);
	expect_op(f, VIRTIO_VSOCK_OP_REQUEST, &h, NULL);
	rst.dst_port = h.src_port;
	send_pkt(f, &rst, NULL);
	assert_true(eof_within(s, 2000));
	close(s);
}

static void test_bad_connect_line(void **state)
{
	struct fixture *f = *state;
	int s = host_connect(f);

	assert_int_equal(write(s, "HELLO 1\n", 8), 8);
	assert_true(eof_within(s, 2000));
	expect_nothing(f, 100);
	close(s);
}

/* A host client that never finishes its line is let go after 5 s. */
static void test_handshake_timeout(void **state)
{
	struct fixture *f = *state;
	int s = host_connect(f);

	assert_int_equal(write(s, "CONN", 4), 4);
	assert_false(eof_within(s, 1000));
	assert_true(eof_within(s, 8000));
	close(s);
}

/* Host to guest: never more than the guest's buf_alloc in flight. */
static void test_credit_to_guest(void **state)
{
	struct fixture *f = *state;
	int l = host_listen(f, 1235), s = guest_connect(f, l, 5001, 1235, 1000);
	struct pkt upd = { .op = VIRTIO_VSOCK_OP_CREDIT_UPDATE, .src_port = 5001,
			   .dst_port = 1235, .buf_alloc = 1000 };
	struct virtio_vsock_hdr h;
	static char data[5000], got[RXDATA];
	u32 total = 0;

	memset(data, 'x', sizeof(data));
	assert_int_equal(write(s, data, sizeof(data)), (ssize_t)sizeof(data));
	while (total < 1000) {
		expect_op(f, VIRTIO_VSOCK_OP_RW, &h, got);
		total += h.len;
	}
	assert_int_equal(total, 1000);
	expect_nothing(f, 200);		/* out of credit */
	/* The guest read it all: 1000 more may come. */
	upd.fwd_cnt = 1000;
	send_pkt(f, &upd, NULL);
	while (total < 2000) {
		expect_op(f, VIRTIO_VSOCK_OP_RW, &h, got);
		total += h.len;
	}
	assert_int_equal(total, 2000);
	expect_nothing(f, 200);
	close(s);
	close(l);
}

/* Guest to host: credit updates as the host takes data, RST past the credit. */
static void test_credit_from_guest(void **state)
{
	struct fixture *f = *state;
	int l = host_listen(f, 1236), s = guest_connect(f, l, 5002, 1236, 65536);
	struct pkt rw = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 5002, .dst_port = 1236,
			  .len = 50 * 1024, .buf_alloc = 65536 };
	static char data[64 * 1024];
	struct virtio_vsock_hdr h;
	bool reset = false;

	/* 100 KiB the host socket takes at once: the guest is told, it thought 0 free. */
	send_pkt(f, &rw, data);
	send_pkt(f, &rw, data);
	expect_op(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, &h, NULL);
	assert_int_equal(h.fwd_cnt, 100 * 1024);
	/* The host stops reading; a guest ignoring credit is reset. */
	rw.len = 64 * 1024;
	for (int i = 0; i < 16 && !reset; i++) {
		send_pkt(f, &rw, data);
		while (recv_pkt(f, &h, NULL, 20))
			reset |= h.op == VIRTIO_VSOCK_OP_RST;
	}
	assert_true(reset);
	assert_int_equal(vm_stat(f->vm, GROUP, "credit_violations"), 1);
	close(s);
	close(l);
}

static void test_wrong_cid(void **state)
{
	struct fixture *f = *state;
	struct pkt req = { .op = VIRTIO_VSOCK_OP_REQUEST, .src_cid = 7, .src_port = 1,
			   .dst_port = 2 };
	struct pkt req2 = { .op = VIRTIO_VSOCK_OP_REQUEST, .dst_cid = 9, .src_port = 1,
			    .dst_port = 2 };

	send_pkt(f, &req, NULL);
	send_pkt(f, &req2, NULL);
	expect_nothing(f, 100);
	assert_int_equal(vm_stat(f->vm, GROUP, "dropped"), 2);
	assert_false(needs_reset(f));
}

static void malformed(struct fixture *f, struct pkt *p)
{
	struct virtio_vsock_hdr h;
	char junk[16] = { 0 };

	send_pkt(f, p, junk);
	expect_op(f, VIRTIO_VSOCK_OP_RST, &h, NULL);
	assert_int_equal(h.dst_port, p->src_port);
	assert_false(needs_reset(f));
}

static void test_malformed_packets(void **state)
{
	struct fixture *f = *state;
	struct pkt unknown_op = { .op = 42, .src_port = 1, .dst_port = 2 };
	struct pkt bad_len = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 3, .dst_port = 4,
			       .len = 100, .payload_len = 10 };
	struct pkt huge_len = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 5, .dst_port = 6,
				.len = 0xffffffff, .payload_len = 16 };
	struct pkt seqpacket = { .op = VIRTIO_VSOCK_OP_REQUEST, .src_port = 7, .dst_port = 8,
				 .type = VIRTIO_VSOCK_TYPE_SEQPACKET };
	struct pkt stray = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 9, .dst_port = 10, .len = 4 };

	malformed(f, &unknown_op);
	malformed(f, &bad_len);
	malformed(f, &huge_len);
	malformed(f, &seqpacket);
	malformed(f, &stray);		/* data for a connection that does not exist */
	assert_int_equal(vm_stat(f->vm, GROUP, "malformed"), 4);
}

/* A bad length on a live connection resets it, host side included. */
static void test_malformed_on_connection(void **state)
{
	struct fixture *f = *state;
	int l = host_listen(f, 1237), s = guest_connect(f, l, 5003, 1237, 65536);
	struct pkt bad = { .op = VIRTIO_VSOCK_OP_RW, .src_port = 5003, .dst_port = 1237,
			   .len = 1000, .payload_len = 10 };

	malformed(f, &bad);
	assert_true(eof_within(s, 2000));
	close(s);
	close(l);
}

static void test_writable_transmit_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->tx, HDR, true };

	vtd_add_chain(&f->d, TX, &b, 1, false);
	vtd_kick(&f->d, TX);
	assert_true(needs_reset(f));
}

static void test_short_transmit_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->tx, HDR - 1, false };

	vtd_add_chain(&f->d, TX, &b, 1, false);
	vtd_kick(&f->d, TX);
	assert_true(needs_reset(f));
}

/* A reset closes every connection; the host sees the end. */
static void test_reset_closes_connections(void **state)
{
	struct fixture *f = *state;
	int l = host_listen(f, 1238), s = guest_connect(f, l, 5004, 1238, 65536);

	assert_int_equal(vtd_reset(&f->d), 0);
	assert_true(eof_within(s, 2000));
	assert_int_equal(vm_stat(f->vm, GROUP, "connections_open"), 0);
	close(s);
	close(l);
}

static void test_parse_connect(void **state)
{
	u32 port = 0;

	(void)state;
	assert_int_equal(vsock_parse_connect("CONNECT 52\n", 11, &port), 11);
	assert_int_equal(port, 52);
	assert_int_equal(vsock_parse_connect("CONNECT 4294967295\r\nxy", 22, &port), 20);
	assert_int_equal(port, 4294967295U);
	assert_int_equal(vsock_parse_connect("CONN", 4, &port), 0);
	assert_int_equal(vsock_parse_connect("CONNECT 12", 10, &port), 0);
	assert_int_equal(vsock_parse_connect("CONNECT 4294967296\n", 19, &port), -1);
	assert_int_equal(vsock_parse_connect("CONNECT \n", 9, &port), -1);
	assert_int_equal(vsock_parse_connect("CONNECT -1\n", 11, &port), -1);
	assert_int_equal(vsock_parse_connect("connect 1\n", 10, &port), -1);
	assert_int_equal(vsock_parse_connect("CONNECT 1 \n", 11, &port), -1);
	assert_int_equal(vsock_parse_connect("CONNECT 00000000000000000000001", 31, &port), -1);
}

/* PATH: a stale socket is replaced; a live one, or a file, is not ours. */
static void test_listen_path(void **state)
{
	char dir[] = "/tmp/kiln-vsock-XXXXXX", path[64], cmd[64];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s, fd;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	strcpy(a.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(vsock_uds_listen(path), -1);		/* someone listens */
	close(s);						/* now it is stale */
	fd = vsock_uds_listen(path);
	assert_true(fd >= 0);
	vsock_uds_unlisten(fd, path);
	assert_int_not_equal(access(path, F_OK), 0);		/* removed at the end */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(vsock_uds_listen(path), -1);		/* a file stays */
	assert_int_equal(access(path, F_OK), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int parse(struct vm_config *cfg, const char *val)
{
	char *argv[] = { "run", "--kernel", "/proc/self/exe", "--vsock", (char *)val };

	return config_parse_run(cfg, 5, argv);
}

static void test_cli(void **state)
{
	struct vm_config cfg;
	char longpath[120];

	(void)state;
	assert_int_equal(parse(&cfg, "cid=3,uds=/tmp/v.sock"), 0);
	assert_true(cfg.vsock.enabled);
	assert_int_equal(cfg.vsock.cid, 3);
	assert_string_equal(cfg.vsock.uds_path, "/tmp/v.sock");
	config_release(&cfg);
	/* PATH_4294967295 must fit a socket address: 97 bytes of path do not. */
	strcpy(longpath, "cid=3,uds=/");
	memset(longpath + 11, 'a', 96);
	longpath[107] = '\0';
	assert_int_equal(parse(&cfg, "cid=3"), -1);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "uds=/tmp/x"), -1);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "cid=2,uds=/tmp/x"), -1);		/* the host's */
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "cid=4294967295,uds=/tmp/x"), -1);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "cid=3,uds=/tmp/x,port=1"), -1);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, longpath), -1);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_to_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_to_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_to_guest_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_connect_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_to_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_from_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_cid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_on_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_transmit_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_transmit_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_closes_connections, setup, teardown),
		cmocka_unit_test(test_parse_connect),
		cmocka_unit_test(test_listen_path),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
