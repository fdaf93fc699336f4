package ews

import (
	"encoding/xml"
	"sync"
)

// A hand-written walker for GetItem replies over xscan: it fills the same
// wire types (getItemResponse, wireCalendarItem, …) that encoding/xml
// fills from their struct tags, with the same rules — elements and
// attributes matched by local name, repeated elements appended to slices or
// overwriting single fields, pointers allocated on first sight, unknown
// elements skipped — so convertItem is unchanged. TestFastGetItemMatchesXML
// and FuzzFastGetItem hold it to encoding/xml's result.

var scanPool = sync.Pool{New: func() any { return &xscan{} }}

// unmarshalGetItem parses a GetItem reply into r: with the fast walker when
// it can, else (a SOAP fault, anything unusual or malformed) with
// encoding/xml, which then also decides the error.
// zones, when not nil, caches time zone definitions across replies.
func unmarshalGetItem(raw []byte, r *getItemResponse, zones *zoneCache) error {
	if scan(raw, zones, func(s *xscan) error { return s.getItemResponse(r) }) == nil {
		return nil
	}
	*r = getItemResponse{}
	return xml.Unmarshal(raw, r)
}

// scan runs parse over raw with a pooled scanner.
func scan(raw []byte, zones *zoneCache, parse func(*xscan) error) error {
	s := scanPool.Get().(*xscan)
	*s = xscan{b: raw, stack: s.stack[:0], tmp: s.tmp[:0], attrs: s.attrs[:0], zones: zones}
	err := parse(s)
	s.b, s.local, s.zones = nil, nil, nil
	if cap(s.tmp) <= 64<<10 {
		scanPool.Put(s)
	}
	return err
}

// messages walks Envelope > Body > response > ResponseMessages and calls
// each for every child element named message. A soap:Fault in the Body is
// rare and hands the reply to encoding/xml, which fills soapFault.
func (s *xscan) messages(response, message string, each func() error) error {
	if err := s.root(); err != nil {
		return err
	}
	return s.children(func(local []byte) error {
		if string(local) != "Body" {
			return s.skip()
		}
		return s.children(func(local []byte) error {
			switch string(local) {
			case "Fault":
				return errXScan
			case response:
				return s.children(func(local []byte) error {
					if string(local) != "ResponseMessages" {
						return s.skip()
					}
					return s.children(func(local []byte) error {
						if string(local) != message {
							return s.skip()
						}
						return each()
					})
				})
			}
			return s.skip()
		})
	})
}

func (s *xscan) getItemResponse(r *getItemResponse) error {
	return s.messages("GetItemResponse", "GetItemResponseMessage", func() error {
		r.Messages = append(r.Messages, struct {
			responseMessage
			Items []wireCalendarItem `xml:"Items>CalendarItem"`
		}{})
		m := &r.Messages[len(r.Messages)-1]
		return s.getItemMessage(&m.responseMessage, &m.Items)
	})
}

func (s *xscan) getItemMessage(m *responseMessage, items *[]wireCalendarItem) error {
	if err := s.responseMessageAttrs(m); err != nil {
		return err
	}
	return s.children(func(local []byte) error {
		if ok, err := s.responseMessageField(local, m); ok {
			return err
		}
		var err error
		switch string(local) {
		case "Items":
			err = s.children(func(local []byte) error {
				if string(local) != "CalendarItem" {
					return s.skip()
				}
				*items = append(*items, wireCalendarItem{})
				return s.calendarItem(&(*items)[len(*items)-1])
			})
		default:
			err = s.skip()
		}
		return err
	})
}

// responseMessageAttrs reads ResponseMessageType's attribute.
func (s *xscan) responseMessageAttrs(m *responseMessage) error {
	v, ok, err := s.attr("ResponseClass")
	if ok {
		m.ResponseClass = v
	}
	return err
}

// responseMessageField reads the child local of a ResponseMessageType if
// it is one of its own fields (MessageText, ResponseCode, MessageXml).
func (s *xscan) responseMessageField(local []byte, m *responseMessage) (bool, error) {
	var err error
	switch string(local) {
	case "MessageText":
		m.MessageText, err = s.text()
	case "ResponseCode":
		m.ResponseCode, err = s.text()
	case "MessageXml":
		err = s.children(func(local []byte) error {
			if string(local) != "Value" {
				return s.skip()
			}
			var v struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			}
			name, _, err := s.attr("Name")
			if err != nil {
				return err
			}
			v.Name = name
			if v.Value, err = s.text(); err != nil {
				return err
			}
			m.MessageXML.Values = append(m.MessageXML.Values, v)
			return nil
		})
	default:
		return false, nil
	}
	return true, err
}

func (s *xscan) itemID(id *respItemID) error {
	if v, ok, err := s.attr("Id"); err != nil {
		return err
	} else if ok {
		id.ID = v
	}
	if v, ok, err := s.attr("ChangeKey"); err != nil {
		return err
	} else if ok {
		id.ChangeKey = v
	}
	return s.skip()
}

func (s *xscan) intText(p *int) error {
	b, err := s.textBytes()
	if err != nil {
		return err
	}
	*p, err = xmlInt(b)
	return err
}

func (s *xscan) boolText(p *bool) error {
	b, err := s.textBytes()
	if err != nil {
		return err
	}
	*p, err = xmlBool(b)
	return err
}

func (s *xscan) calendarItem(w *wireCalendarItem) error {
	return s.children(func(local []byte) error {
		var err error
		switch string(local) {
		case "ItemId":
			err = s.itemID(&w.ItemID)
		case "Subject":
			w.Subject, err = s.text()
		case "Sensitivity":
			w.Sensitivity, err = s.text()
		case "Body":
			if w.Body == nil {
				w.Body = &wireBody{}
			}
			var v string
			var ok bool
			if v, ok, err = s.attr("BodyType"); err != nil {
				return err
			} else if ok {
				w.Body.BodyType = v
			}
			w.Body.Text, err = s.text()
		case "Categories":
			err = s.children(func(local []byte) error {
				if string(local) != "String" {
					return s.skip()
				}
				v, err := s.text()
				w.Categories = append(w.Categories, v)
				return err
			})
		case "ReminderIsSet":
			if w.ReminderIsSet == nil {
				w.ReminderIsSet = new(bool)
			}
			err = s.boolText(w.ReminderIsSet)
		case "ReminderMinutesBeforeStart":
			if w.ReminderMinutesBeforeStart == nil {
				w.ReminderMinutesBeforeStart = new(int)
			}
			err = s.intText(w.ReminderMinutesBeforeStart)
		case "LastModifiedTime":
			w.LastModifiedTime, err = s.text()
		case "UID":
			w.UID, err = s.text()
		case "Start":
			w.Start, err = s.text()
		case "End":
			w.End, err = s.text()
		case "OriginalStart":
			w.OriginalStart, err = s.text()
		case "IsAllDayEvent":
			err = s.boolText(&w.IsAllDayEvent)
		case "LegacyFreeBusyStatus":
			w.LegacyFreeBusyStatus, err = s.text()
		case "Location":
			w.Location, err = s.text()
		case "IsMeeting":
			err = s.boolText(&w.IsMeeting)
		case "IsCancelled":
			err = s.boolText(&w.IsCancelled)
		case "CalendarItemType":
			w.CalendarItemType, err = s.text()
		case "Organizer":
			err = s.children(func(local []byte) error {
				if string(local) != "Mailbox" {
					return s.skip()
				}
				if w.Organizer == nil {
					w.Organizer = &wireMailbox{}
				}
				return s.mailbox(w.Organizer)
			})
		case "RequiredAttendees":
			err = s.attendees(&w.RequiredAttendees)
		case "OptionalAttendees":
			err = s.attendees(&w.OptionalAttendees)
		case "Resources":
			err = s.attendees(&w.Resources)
		case "AppointmentSequenceNumber":
			err = s.intText(&w.AppointmentSequenceNumber)
		case "Recurrence":
			if w.Recurrence == nil {
				w.Recurrence = &wireRecurrence{}
			}
			err = s.recurrence(w.Recurrence)
		case "ModifiedOccurrences":
			err = s.children(func(local []byte) error {
				if string(local) != "Occurrence" {
					return s.skip()
				}
				w.ModifiedOccurrences = append(w.ModifiedOccurrences, wireOccurrence{})
				o := &w.ModifiedOccurrences[len(w.ModifiedOccurrences)-1]
				return s.children(func(local []byte) error {
					var err error
					switch string(local) {
					case "ItemId":
						err = s.itemID(&o.ItemID)
					case "Start":
						o.Start, err = s.text()
					case "End":
						o.End, err = s.text()
					case "OriginalStart":
						o.OriginalStart, err = s.text()
					default:
						err = s.skip()
					}
					return err
				})
			})
		case "DeletedOccurrences":
			err = s.children(func(local []byte) error {
				if string(local) != "DeletedOccurrence" {
					return s.skip()
				}
				return s.children(func(local []byte) error {
					if string(local) != "Start" {
						return s.skip()
					}
					v, err := s.text()
					w.DeletedOccurrences = append(w.DeletedOccurrences, v)
					return err
				})
			})
		case "StartTimeZone":
			err = s.zoneField(&w.StartTimeZone)
		case "EndTimeZone":
			err = s.zoneField(&w.EndTimeZone)
		case "EndTimeZoneId":
			w.EndTimeZoneID, err = s.text()
		default:
			err = s.skip()
		}
		return err
	})
}

// zoneField reads a TimeZoneDefinitionType element into *p. With a cache,
// an element whose bytes were seen before is not decoded again: *p becomes
// the cached (read-only) wire value with its conversion.
func (s *xscan) zoneField(p **wireTimeZoneDef) error {
	if *p != nil {
		// Repeated element: merge into a private copy, as encoding/xml would.
		if (*p).conv != nil {
			*p = (*p).clone()
		}
		return s.timeZone(*p)
	}
	if s.zones == nil {
		*p = &wireTimeZoneDef{}
		return s.timeZone(*p)
	}
	from := s.tagStart
	if err := s.skip(); err != nil {
		return err
	}
	raw := s.b[from:s.i]
	if z := s.zones.get(raw); z != nil {
		*p = z
		return nil
	}
	sub := xscan{b: raw}
	if err := sub.root(); err != nil {
		return err
	}
	z := &wireTimeZoneDef{}
	if err := sub.timeZone(z); err != nil {
		return err
	}
	if tz, err := convertTimeZone(z); err == nil {
		z.conv = tz
		s.zones.put(raw, z)
	}
	*p = z
	return nil
}

// zoneCache maps the bytes of a time zone definition element to its wire
// value and conversion. A mailbox's items use a handful of zones, so the
// definitions (most of an item's XML before) are decoded once per Client.
type zoneCache struct {
	mu sync.Mutex
	m  map[string]*wireTimeZoneDef
}

// maxCachedZones bounds the cache (Windows knows about 140 zones).
const maxCachedZones = 512

func (c *zoneCache) get(raw []byte) *wireTimeZoneDef {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(raw)]
}

func (c *zoneCache) put(raw []byte, z *wireTimeZoneDef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*wireTimeZoneDef{}
	}
	if len(c.m) < maxCachedZones {
		c.m[string(raw)] = z
	}
}

func (s *xscan) mailbox(m *wireMailbox) error {
	return s.children(func(local []byte) error {
		var err error
		switch string(local) {
		case "Name":
			m.Name, err = s.text()
		case "EmailAddress":
			m.EmailAddress, err = s.text()
		case "RoutingType":
			m.RoutingType, err = s.text()
		default:
			err = s.skip()
		}
		return err
	})
}

func (s *xscan) attendees(list *[]wireAttendee) error {
	return s.children(func(local []byte) error {
		if string(local) != "Attendee" {
			return s.skip()
		}
		*list = append(*list, wireAttendee{})
		a := &(*list)[len(*list)-1]
		return s.children(func(local []byte) error {
			var err error
			switch string(local) {
			case "Mailbox":
				err = s.mailbox(&a.Mailbox)
			case "ResponseType":
				a.ResponseType, err = s.text()
			default:
				err = s.skip()
			}
			return err
		})
	})
}

func (s *xscan) recurrence(r *wireRecurrence) error {
	return s.children(func(local []byte) error {
		pat := func(p **wirePattern) error {
			if *p == nil {
				*p = &wirePattern{}
			}
			return s.pattern(*p)
		}
		rng := func(p **wireRange) error {
			if *p == nil {
				*p = &wireRange{}
			}
			return s.rangeOf(*p)
		}
		switch string(local) {
		case "RelativeYearlyRecurrence":
			return pat(&r.RelativeYearly)
		case "AbsoluteYearlyRecurrence":
			return pat(&r.AbsoluteYearly)
		case "RelativeMonthlyRecurrence":
			return pat(&r.RelativeMonthly)
		case "AbsoluteMonthlyRecurrence":
			return pat(&r.AbsoluteMonthly)
		case "WeeklyRecurrence":
			return pat(&r.Weekly)
		case "DailyRecurrence":
			return pat(&r.Daily)
		case "NoEndRecurrence":
			return rng(&r.NoEnd)
		case "EndDateRecurrence":
			return rng(&r.EndDate)
		case "NumberedRecurrence":
			return rng(&r.Numbered)
		}
		return s.skip()
	})
}

func (s *xscan) pattern(p *wirePattern) error {
	return s.children(func(local []byte) error {
		var err error
		switch string(local) {
		case "Interval":
			err = s.intText(&p.Interval)
		case "DaysOfWeek":
			p.DaysOfWeek, err = s.text()
		case "FirstDayOfWeek":
			p.FirstDayOfWeek, err = s.text()
		case "DayOfMonth":
			err = s.intText(&p.DayOfMonth)
		case "DayOfWeekIndex":
			p.DayOfWeekIndex, err = s.text()
		case "Month":
			p.Month, err = s.text()
		default:
			err = s.skip()
		}
		return err
	})
}

func (s *xscan) rangeOf(r *wireRange) error {
	return s.children(func(local []byte) error {
		var err error
		switch string(local) {
		case "StartDate":
			r.StartDate, err = s.text()
		case "EndDate":
			r.EndDate, err = s.text()
		case "NumberOfOccurrences":
			err = s.intText(&r.NumberOfOccurrences)
		default:
			err = s.skip()
		}
		return err
	})
}

func (s *xscan) timeZone(z *wireTimeZoneDef) error {
	if v, ok, err := s.attr("Id"); err != nil {
		return err
	} else if ok {
		z.ID = v
	}
	if v, ok, err := s.attr("Name"); err != nil {
		return err
	} else if ok {
		z.Name = v
	}
	return s.children(func(local []byte) error {
		switch string(local) {
		case "Periods":
			return s.children(func(local []byte) error {
				if string(local) != "Period" {
					return s.skip()
				}
				var p wirePeriod
				for _, f := range []struct {
					name string
					dst  *string
				}{{"Bias", &p.Bias}, {"Name", &p.Name}, {"Id", &p.ID}} {
					v, ok, err := s.attr(f.name)
					if err != nil {
						return err
					}
					if ok {
						*f.dst = v
					}
				}
				z.Periods = append(z.Periods, p)
				return s.skip()
			})
		case "TransitionsGroups":
			return s.children(func(local []byte) error {
				if string(local) != "TransitionsGroup" {
					return s.skip()
				}
				z.TransitionsGroups = append(z.TransitionsGroups, wireTransGroup{})
				g := &z.TransitionsGroups[len(z.TransitionsGroups)-1]
				if v, ok, err := s.attr("Id"); err != nil {
					return err
				} else if ok {
					g.ID = v
				}
				return s.transitions(&g.Transitions)
			})
		case "Transitions":
			if z.Transitions == nil {
				z.Transitions = &struct {
					List []wireTransition `xml:",any"`
				}{}
			}
			return s.transitions(&z.Transitions.List)
		}
		return s.skip()
	})
}

// transitions reads every child element as a wireTransition (the `,any`
// fields of TransitionsGroup and Transitions).
func (s *xscan) transitions(list *[]wireTransition) error {
	return s.children(func(local []byte) error {
		*list = append(*list, wireTransition{XMLName: xml.Name{Local: intern(local)}})
		t := &(*list)[len(*list)-1]
		return s.children(func(local []byte) error {
			var err error
			switch string(local) {
			case "To":
				var v string
				var ok bool
				if v, ok, err = s.attr("Kind"); err != nil {
					return err
				} else if ok {
					t.To.Kind = v
				}
				t.To.Value, err = s.text()
			case "TimeOffset":
				t.TimeOffset, err = s.text()
			case "Month":
				err = s.intText(&t.Month)
			case "DayOfWeek":
				t.DayOfWeek, err = s.text()
			case "Occurrence":
				err = s.intText(&t.Occurrence)
			case "DateTime":
				t.DateTime, err = s.text()
			default:
				err = s.skip()
			}
			return err
		})
	})
}
