package knowledge

import "strings"

// Contacts are the links and phone numbers an answer may give beyond those
// of the entries it was written from: the quality gate's allow-lists
// (GateOptions.AllowedDomains, AllowedPhones).
type Contacts struct {
	Domains []string
	Phones  []string
}

// UngroundedContact returns the first link or phone number in text that
// none of sources gives and c does not allow, or "" when there is none. A
// link counts as given when a source links to the same host, as the gate
// judges links by host; a phone number when a source gives the same
// number, with or without the country code. It is the gate's check for
// text no reviewer read: an answer a language model wrote from the
// entries may not send the customer to a site or a hotline it made up.
func UngroundedContact(text string, sources []string, c Contacts) string {
	links, phones := linkRE.FindAllString(text, -1), findPhones(text)
	if len(links) == 0 && len(phones) == 0 {
		return "" // most answers
	}
	hosts := map[string]bool{}
	numbers := phoneSet(c.Phones)
	for _, s := range sources {
		for _, l := range linkRE.FindAllString(s, -1) {
			hosts[hostOf(l)] = true
		}
		for _, p := range findPhones(s) {
			numbers.add(strings.TrimSpace(p))
		}
	}
	for _, l := range links {
		if h := hostOf(l); !hosts[h] && !allowedHost(h, c.Domains) {
			return l
		}
	}
	for _, p := range phones {
		p = strings.TrimSpace(p)
		if !numbers.has(p) {
			return p
		}
	}
	return ""
}
