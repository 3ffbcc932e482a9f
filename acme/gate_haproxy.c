/* After the deploy command: the verified staple for the new certificate
 * goes into a running HAProxy over its stats socket (haproxy_socket), so
 * a deployment without a reload staples at once. */
#include <stdio.h>
#include <string.h>

#include "gate_internal.h"
#include "haproxy.h"

void sg_gate_haproxy(struct gate *g)
{
	const char *sock = g->site.haproxy_socket;
	struct sg_probe_opts p;
	X509 *issuer;
	long timeout = sg_gate_left_ms(g);
	sg_result r;

	/* Only the responder's verified answer is pushed: a certificate the
	 * gate did not ask about (not Must-Staple) has none. */
	if (sock == NULL || !g->asked || !g->resp.ready)
		return;
	if (timeout > SG_HAPROXY_TIMEOUT_MS)
		timeout = SG_HAPROXY_TIMEOUT_MS;
	sg_gate_probe_policy(g, &p, g->deadline - g->reserve_ms);
	issuer = sg_material_issuer(&g->mat);
	r = sg_haproxy_push(sock, g->resp.der, g->resp.len,
			    sg_material_leaf(&g->mat), issuer, &p.policy,
			    timeout > 0 ? timeout : 1);
	X509_free(issuer);
	if (r.code) {
		sg_gate_note_error(g, "HAProxy: %s", r.reason);
		sg_gate_outcome_append(g, "; staple not pushed to HAProxy: %s",
				       r.reason);
		return;
	}
	sg_gate_outcome_append(
		g, "; staple pushed to HAProxy (%s) and read back", sock);
}
