/* libFuzzer target for netaddr.c over arbitrary text: the networks list parser, matching, and
 * the address groups, whose text must group to itself (what `estafeta auth blocked` prints is
 * what `auth unblock` takes back). */
#include "core/netaddr.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct netaddr_net *nets = NULL;
	char *error = NULL;
	int n = netaddr_networks_parse(text, &nets, &error);
	if (n < 0) {
		if (error == NULL)
			abort();
		free(error);
	} else {
		for (int i = 0; i < n; i++)
			if (nets[i].bits < 0 || nets[i].bits > 128)
				abort();
		netaddr_networks_contain(nets, (size_t)n, text);
		free(nets);
	}
	char group[NETADDR_GROUP_MAX], again[NETADDR_GROUP_MAX];
	if (netaddr_group(text, group) &&
	    (strlen(group) >= NETADDR_GROUP_MAX || !netaddr_group(group, again) ||
	     strcmp(group, again) != 0))
		abort();
	free(text);
	return 0;
}
