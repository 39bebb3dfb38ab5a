/*
 * config_toml: the C++ side of config. cpptoml parses; we walk its tree
 * into jansson. No exception crosses into C: everything is caught here.
 *
 * cpptoml recurses once per nesting level of arrays and inline tables, so
 * a hostile file of a million '[' would overflow the stack. Before parsing
 * we bound the nesting depth with a scan that skips strings and comments;
 * it validates nothing else (cpptoml does).
 */
#include "rtc_build.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include <cpptoml.h>

extern "C" {
#include "config.h"
#include "error.h"
}

extern "C" int rtc_config_toml_parse(const char *text, size_t len,
    const char *name, json_t **out, char **cause);

namespace {

/* Deepest nesting of [ and { outside strings and comments. */
int
nesting_depth(const char *s, size_t n)
{
	int depth = 0, maxd = 0;
	size_t i = 0;

	while (i < n) {
		char c = s[i];
		if (c == '#') {
			while (i < n && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '"' || c == '\'') {
			bool multi = i + 2 < n && s[i + 1] == c && s[i + 2] == c;
			size_t q = multi ? 3 : 1;
			i += q;
			while (i < n) {
				if (c == '"' && s[i] == '\\') {
					i += 2;
					continue;
				}
				if (s[i] == c && (!multi ||
				    (i + 2 < n && s[i + 1] == c && s[i + 2] == c)))
					break;
				if (!multi && s[i] == '\n')
					break;
				i++;
			}
			i += q;
			continue;
		}
		if (c == '[' || c == '{') {
			if (++depth > maxd)
				maxd = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
		i++;
	}
	return maxd;
}

json_t *convert(const std::shared_ptr<cpptoml::base> &b, int depth);

std::string
date_string(const cpptoml::local_date &d)
{
	char s[64];
	snprintf(s, sizeof(s), "%04d-%02d-%02d", d.year, d.month, d.day);
	return s;
}

std::string
time_string(const cpptoml::local_time &t)
{
	char s[64];
	snprintf(s, sizeof(s), "%02d:%02d:%02d", t.hour, t.minute, t.second);
	std::string r = s;
	if (t.microsecond != 0) {
		snprintf(s, sizeof(s), ".%06d", t.microsecond);
		r += s;
	}
	return r;
}

json_t *
convert_value(const std::shared_ptr<cpptoml::base> &b)
{
	if (auto v = b->as<std::string>())
		return json_string(v->get().c_str());
	if (auto v = b->as<int64_t>())
		return json_integer(v->get());
	if (auto v = b->as<double>())
		return json_real(v->get());
	if (auto v = b->as<bool>())
		return json_boolean(v->get());
	if (auto v = b->as<cpptoml::local_date>())
		return json_string(date_string(v->get()).c_str());
	if (auto v = b->as<cpptoml::local_time>())
		return json_string(time_string(v->get()).c_str());
	if (auto v = b->as<cpptoml::local_datetime>()) {
		const cpptoml::local_datetime &d = v->get();
		return json_string((date_string(d) + "T" + time_string(d)).c_str());
	}
	if (auto v = b->as<cpptoml::offset_datetime>()) {
		const cpptoml::offset_datetime &d = v->get();
		char off[32];
		snprintf(off, sizeof(off), "%c%02d:%02d",
		    d.hour_offset < 0 || d.minute_offset < 0 ? '-' : '+',
		    std::abs(d.hour_offset), std::abs(d.minute_offset));
		return json_string((date_string(d) + "T" + time_string(d) +
		    off).c_str());
	}
	return NULL;
}

json_t *
convert(const std::shared_ptr<cpptoml::base> &b, int depth)
{
	if (depth > RTC_CONFIG_MAX_DEPTH)
		return NULL;
	if (b->is_table()) {
		json_t *o = json_object();
		if (o == NULL)
			return NULL;
		for (const auto &kv : *b->as_table()) {
			json_t *v = convert(kv.second, depth + 1);
			if (v == NULL || json_object_set_new(o, kv.first.c_str(), v)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	if (b->is_table_array()) {
		json_t *a = json_array();
		if (a == NULL)
			return NULL;
		for (const auto &t : *b->as_table_array()) {
			json_t *v = convert(t, depth + 1);
			if (v == NULL || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	if (b->is_array()) {
		json_t *a = json_array();
		if (a == NULL)
			return NULL;
		for (const auto &e : *b->as_array()) {
			json_t *v = convert(e, depth + 1);
			if (v == NULL || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	return convert_value(b);
}

} // namespace

extern "C" int
rtc_config_toml_parse(const char *text, size_t len, const char *name,
    json_t **out, char **cause)
{
	if (len > RTC_CONFIG_MAX_BYTES) {
		rtc_cause_set(cause, "%s: larger than %d bytes", name,
		    RTC_CONFIG_MAX_BYTES);
		return RTC_ERR_TOO_BIG;
	}
	if (memchr(text, '\0', len) != NULL) {
		rtc_cause_set(cause, "%s: contains a NUL byte", name);
		return RTC_ERR_FORMAT;
	}
	if (nesting_depth(text, len) > RTC_CONFIG_MAX_DEPTH) {
		rtc_cause_set(cause, "%s: nested deeper than %d levels", name,
		    RTC_CONFIG_MAX_DEPTH);
		return RTC_ERR_FORMAT;
	}
	try {
		std::istringstream in(std::string(text, len));
		cpptoml::parser p(in);
		std::shared_ptr<cpptoml::table> t = p.parse();
		json_t *j = convert(t, 0);
		if (j == NULL) {
			rtc_cause_set(cause, "%s: cannot represent the file", name);
			return RTC_ERR_FORMAT;
		}
		*out = j;
		return RTC_OK;
	} catch (const cpptoml::parse_exception &e) {
		rtc_cause_set(cause, "%s: %s", name, e.what());
		return RTC_ERR_FORMAT;
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (const std::exception &e) {
		rtc_cause_set(cause, "%s: %s", name, e.what());
		return RTC_ERR_FORMAT;
	} catch (...) {
		rtc_cause_set(cause, "%s: unreadable TOML", name);
		return RTC_ERR_FORMAT;
	}
}
