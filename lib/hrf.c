/*
 * hrf: double-gamma HRF. P(a, x) is evaluated by its power series for
 * x < a + 1 and by the Lentz continued fraction for Q = 1 - P otherwise
 * (the textbook pairing: both converge fast in their region), to about
 * 1e-14. Everything here is a pure function of its arguments.
 */
#include "rtc_build.h"

#include <math.h>
#include <stddef.h>

#include "hrf.h"

void
rtc_hrf_canonical(struct rtc_hrf *h)
{
	h->peak_delay = 6.0;
	h->under_delay = 16.0;
	h->peak_disp = 1.0;
	h->under_disp = 1.0;
	h->ratio = 6.0;
}

int
rtc_hrf_valid(const struct rtc_hrf *h)
{
	return isfinite(h->peak_delay) && isfinite(h->under_delay) &&
	    isfinite(h->peak_disp) && isfinite(h->under_disp) &&
	    isfinite(h->ratio) && h->peak_delay > 0.0 &&
	    h->under_delay > 0.0 && h->peak_disp > 0.0 &&
	    h->under_disp > 0.0 && h->ratio > 1.0 && h->peak_delay <= 100.0 &&
	    h->under_delay <= 100.0 && h->peak_disp <= 100.0 &&
	    h->under_disp <= 100.0;
}

double
rtc_hrf_gammainc(double a, double x)
{
	const double eps = 1e-15, tiny = 1e-300;
	double gln, sum, del, ap, b, c, d, hh, an;
	int n;

	if (!(a > 0.0) || !(x > 0.0))
		return 0.0;
	gln = lgamma(a);
	if (x < a + 1.0) {
		ap = a;
		sum = del = 1.0 / a;
		for (n = 0; n < 1000; n++) {
			ap += 1.0;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * eps)
				break;
		}
		return sum * exp(-x + a * log(x) - gln);
	}
	b = x + 1.0 - a;
	c = 1.0 / tiny;
	d = 1.0 / b;
	hh = d;
	for (n = 1; n < 1000; n++) {
		an = -n * (n - a);
		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		hh *= del;
		if (fabs(del - 1.0) < eps)
			break;
	}
	return 1.0 - exp(-x + a * log(x) - gln) * hh;
}

static const struct rtc_hrf *
hrf_or_canonical(const struct rtc_hrf *h, struct rtc_hrf *tmp)
{
	if (h != NULL)
		return h;
	rtc_hrf_canonical(tmp);
	return tmp;
}

static double
gamma_pdf(double t, double shape, double scale)
{
	return exp((shape - 1.0) * log(t) - t / scale - lgamma(shape) -
	    shape * log(scale));
}

double
rtc_hrf_value(const struct rtc_hrf *h, double t)
{
	struct rtc_hrf c;

	if (!(t > 0.0))
		return 0.0;
	h = hrf_or_canonical(h, &c);
	return (gamma_pdf(t, h->peak_delay / h->peak_disp, h->peak_disp) -
	    gamma_pdf(t, h->under_delay / h->under_disp, h->under_disp) /
	    h->ratio) / (1.0 - 1.0 / h->ratio);
}

double
rtc_hrf_integral(const struct rtc_hrf *h, double t)
{
	struct rtc_hrf c;

	if (!(t > 0.0))
		return 0.0;
	h = hrf_or_canonical(h, &c);
	return (rtc_hrf_gammainc(h->peak_delay / h->peak_disp,
	    t / h->peak_disp) - rtc_hrf_gammainc(h->under_delay /
	    h->under_disp, t / h->under_disp) / h->ratio) /
	    (1.0 - 1.0 / h->ratio);
}

double
rtc_hrf_response(const struct rtc_hrf *h, double t, double onset,
    double duration)
{
	double u = t - onset;

	if (!(u > 0.0))
		return 0.0;
	if (duration <= 0.0)
		return rtc_hrf_value(h, u);
	return rtc_hrf_integral(h, u) - rtc_hrf_integral(h, u - duration);
}
