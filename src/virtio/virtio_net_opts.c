// SPDX-License-Identifier: Apache-2.0
/*
 * --net user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT][,mac=MAC][,mtu=N]
 * --net tap=NAME[,mac=MAC]
 *
 * QEMU's spellings of -netdev user/tap and -device virtio-net-pci,mac=.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "backend/net_backend.h"
#include "cli/config.h"
#include "lib/log.h"

static int parse_port(const char *s, u16 *port)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* "[ADDR]:PORT", ADDR a dotted IPv4 address or empty (0). */
static int parse_endpoint(char *s, u32 *addr, u16 *port)
{
	char *colon = strrchr(s, ':');
	struct in_addr a;

	if (!colon)
		return -1;
	*colon = '\0';
	*addr = 0;
	if (*s) {
		if (inet_pton(AF_INET, s, &a) != 1)
			return -1;
		*addr = a.s_addr;
	}
	return parse_port(colon + 1, port);
}

static int parse_hostfwd(struct net_hostfwd *f, const char *rule)
{
	char buf[96], *host, *guest, *dash;

	if (strlen(rule) >= sizeof(buf))
		return -1;
	strcpy(buf, rule);
	*f = (struct net_hostfwd){ 0 };
	host = buf;
	if (!strncmp(host, "tcp:", 4)) {
		host += 4;
	} else if (!strncmp(host, "udp:", 4)) {
		f->udp = true;
		host += 4;
	} else if (*host == ':') {
		host++;		/* the protocol left out: tcp, as QEMU */
	} else {
		return -1;
	}
	dash = strchr(host, '-');
	if (!dash)
		return -1;
	*dash = '\0';
	guest = dash + 1;
	if (parse_endpoint(host, &f->host_addr, &f->host_port) ||
	    parse_endpoint(guest, &f->guest_addr, &f->guest_port))
		return -1;
	return 0;
}

static int parse_mac(const char *s, u8 mac[6])
{
	unsigned int b[6];
	int n = 0;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &n) != 6 || n != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return -1;
		mac[i] = b[i];
	}
	/* A card's own address is unicast: the group bit is clear. */
	return (mac[0] & 1) ? -1 : 0;
}

static int net_option(struct net_config *nc, const char *flag, const char *val, const char *opt)
{
	if (!strncmp(opt, "hostfwd=", 8)) {
		if (nc->kind != NET_USER) {
			pr_err("%s '%s': hostfwd= is for user networking only", flag, val);
			return -1;
		}
		if (nc->nr_hostfwd >= CONFIG_MAX_HOSTFWD) {
			pr_err("%s '%s': at most %d hostfwd rules", flag, val, CONFIG_MAX_HOSTFWD);
			return -1;
		}
		if (parse_hostfwd(&nc->hostfwd[nc->nr_hostfwd], opt + 8)) {
			pr_err("%s '%s': bad rule '%s' (tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, "
			       "ports 1..65535)", flag, val, opt);
			return -1;
		}
		nc->nr_hostfwd++;
		return 0;
	}
	if (!strncmp(opt, "mac=", 4)) {
		if (parse_mac(opt + 4, nc->mac)) {
			pr_err("%s '%s': bad MAC '%s' (six hex bytes, 52:54:00:12:34:56, unicast)",
			       flag, val, opt + 4);
			return -1;
		}
		nc->has_mac = true;
		return 0;
	}
	if (!strncmp(opt, "mtu=", 4)) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(opt + 4, &end, 10);
		if (nc->kind != NET_USER) {
			pr_err("%s '%s': mtu= is for user networking only (a tap has its own)",
			       flag, val);
			return -1;
		}
		if (!isdigit((unsigned char)opt[4]) || errno || *end || v < NET_MTU_MIN ||
		    v > NET_MTU_MAX) {
			pr_err("%s '%s': bad MTU '%s' (%d..%d bytes)", flag, val, opt + 4,
			       NET_MTU_MIN, NET_MTU_MAX);
			return -1;
		}
		nc->mtu = v;
		return 0;
	}
	pr_err("%s '%s': unknown option '%s' (hostfwd=RULE, mac=MAC, mtu=N)", flag, val, opt);
	return -1;
}

int config_parse_net(struct vm_config *cfg, const char *flag, const char *val)
{
	struct net_config *nc;
	char *opt, *save = NULL;

	if (cfg->nr_nets >= CONFIG_MAX_NICS) {
		pr_err("%s: at most %d network cards", flag, CONFIG_MAX_NICS);
		return -1;
	}
	nc = &cfg->nets[cfg->nr_nets];
	*nc = (struct net_config){ .spec = strdup(val) };
	if (!nc->spec)
		return -1;
	opt = strtok_r(nc->spec, ",", &save);
	if (opt && !strcmp(opt, "user")) {
		nc->kind = NET_USER;
	} else if (opt && !strncmp(opt, "tap=", 4) && opt[4] && strlen(opt + 4) < IFNAMSIZ) {
		nc->kind = NET_TAP;
		nc->tap_name = opt + 4;
	} else {
		pr_err("%s '%s': use user[,hostfwd=...][,mac=...] or tap=NAME[,mac=...] "
		       "(NAME shorter than %d bytes)", flag, val, IFNAMSIZ);
		goto fail;
	}
	while ((opt = strtok_r(NULL, ",", &save)))
		if (net_option(nc, flag, val, opt))
			goto fail;
	cfg->nr_nets++;
	return 0;
fail:
	free(nc->spec);
	nc->spec = NULL;
	return -1;
}
