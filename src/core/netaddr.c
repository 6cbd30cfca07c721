/* Networks and address groups; see netaddr.h. inet_pton does the parsing of addresses. */
#include "core/netaddr.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An address text into 16 bytes (IPv4 as IPv4-mapped); *v4_r tells which it was. */
static bool address_parse(const char *text, unsigned char out[16], bool *v4_r)
{
	struct in_addr in4;
	if (inet_pton(AF_INET, text, &in4) == 1) {
		memcpy(out, v4_mapped, 12);
		memcpy(out + 12, &in4, 4);
		*v4_r = true;
		return true;
	}
	*v4_r = false;
	if (inet_pton(AF_INET6, text, out) != 1)
		return false;
	*v4_r = memcmp(out, v4_mapped, 12) == 0;
	return true;
}

/* "ADDRESS[/BITS]" into net; false when it is not a network. */
static bool network_parse(const char *text, struct netaddr_net *net)
{
	char *copy = xstrdup(text);
	char *slash = strchr(copy, '/');
	if (slash != NULL)
		*slash++ = '\0';
	bool v4;
	bool ok = address_parse(copy, net->addr, &v4);
	int max = v4 ? 32 : 128;
	int bits = max;
	if (ok && slash != NULL) {
		char *end;
		long b = strtol(slash, &end, 10);
		ok = *slash >= '0' && *slash <= '9' && *end == '\0' && b >= 0 && b <= max;
		bits = (int)b;
	}
	free(copy);
	if (!ok)
		return false;
	net->bits = v4 ? 96 + bits : bits;
	for (int i = net->bits; i < 128; i++)
		if (net->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

int netaddr_networks_parse(const char *list, struct netaddr_net **nets_r, char **error_r)
{
	char *copy = xstrdup(list);
	char *save = NULL;
	struct netaddr_net *nets = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
		nets = xrealloc(nets, (size_t)(n + 1) * sizeof(*nets));
		if (!network_parse(t, &nets[n])) {
			*error_r = xasprintf("\"%s\" is not a network such as 192.0.2.0/24 or "
					     "2001:db8::/32 (with no bits set past the prefix)", t);
			free(nets);
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	*nets_r = nets;
	return n;
}

static bool net_contains(const struct netaddr_net *net, const unsigned char a[16])
{
	int full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr, a, (size_t)full) != 0)
		return false;
	return rest == 0 || ((net->addr[full] ^ a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

bool netaddr_networks_contain(const struct netaddr_net *nets, size_t n, const char *ip)
{
	unsigned char a[16];
	bool v4;
	if (!address_parse(ip, a, &v4))
		return false;
	for (size_t i = 0; i < n; i++)
		if (net_contains(&nets[i], a))
			return true;
	return false;
}

bool netaddr_group(const char *ip, char out[NETADDR_GROUP_MAX])
{
	char text[NETADDR_GROUP_MAX];
	size_t len = strlen(ip);
	if (len >= sizeof(text))
		return false;
	memcpy(text, ip, len + 1);
	if (len > 3 && strcmp(text + len - 3, "/64") == 0)
		text[len - 3] = '\0';
	unsigned char a[16];
	bool v4;
	if (!address_parse(text, a, &v4))
		return false;
	if (v4) {
		if (strchr(ip, '/') != NULL)
			return false; /* "/64" is for IPv6 groups only */
		return inet_ntop(AF_INET, a + 12, out, NETADDR_GROUP_MAX) != NULL;
	}
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, out, NETADDR_GROUP_MAX - 3) == NULL)
		return false;
	strcat(out, "/64");
	return true;
}
