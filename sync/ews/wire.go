package ews

// Wire types: the XML of the EWS requests ExoCal sends and of the replies it
// reads, written from Microsoft's schemas (/work/shared/ews-schema:
// messages.xsd and types.xsd, Exchange Online). Each type names the xsd type
// it follows.
//
// Requests are marshalled with literal prefixes (soap:, m:, t:) declared on
// the envelope, so the element order is exactly the xsd sequence order.
// Replies are matched by local name only (no namespace in the struct tags):
// Exchange puts some elements in another namespace than the xsd declares
// (m:Notification, m:SubscriptionId in ErrorSubscriptionIds; MessageXml in
// the types or the errors namespace), and the docs' samples use look-alike
// https:// SOAP namespaces.

import (
	"encoding/xml"

	"github.com/exocal/exocal/sync/calendar"
)

const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
)

// ---- requests ----

// reqEnvelope is a SOAP 1.1 envelope carrying one EWS request.
type reqEnvelope struct {
	XMLName   xml.Name  `xml:"soap:Envelope"`
	XmlnsSOAP string    `xml:"xmlns:soap,attr"`
	XmlnsT    string    `xml:"xmlns:t,attr"`
	XmlnsM    string    `xml:"xmlns:m,attr"`
	Header    reqHeader `xml:"soap:Header"`
	Body      reqBody   `xml:"soap:Body"`
}

type reqBody struct {
	Op any // one of the *Request types below; its XMLName names the element
}

// reqHeader holds the SOAP headers: t:RequestServerVersion (types.xsd
// RequestServerVersion element) and t:ExchangeImpersonation
// (ExchangeImpersonationType).
type reqHeader struct {
	RequestServerVersion requestServerVersion   `xml:"t:RequestServerVersion"`
	Impersonation        *exchangeImpersonation `xml:"t:ExchangeImpersonation,omitempty"`
}

type requestServerVersion struct {
	Version string `xml:"Version,attr"` // ExchangeVersionType
}

// exchangeImpersonation is ExchangeImpersonationType with a ConnectingSIDType
// holding PrimarySmtpAddress.
type exchangeImpersonation struct {
	PrimarySmtpAddress string `xml:"t:ConnectingSID>t:PrimarySmtpAddress"`
}

// itemResponseShape is ItemResponseShapeType (BaseShape, BodyType,
// AdditionalProperties in xsd order).
type itemResponseShape struct {
	BaseShape            string     `xml:"t:BaseShape"` // DefaultShapeNamesType
	BodyType             string     `xml:"t:BodyType,omitempty"`
	AdditionalProperties *fieldURIs `xml:"t:AdditionalProperties,omitempty"`
}

// folderResponseShape is FolderResponseShapeType.
type folderResponseShape struct {
	BaseShape            string     `xml:"t:BaseShape"`
	AdditionalProperties *fieldURIs `xml:"t:AdditionalProperties,omitempty"`
}

// fieldURIs is NonEmptyArrayOfPathsToElementType with t:FieldURI
// (PathToUnindexedFieldType, UnindexedFieldURIType).
type fieldURIs struct {
	FieldURI []fieldURI `xml:"t:FieldURI"`
}

type fieldURI struct {
	FieldURI string `xml:"FieldURI,attr"`
}

// distinguishedFolderID is DistinguishedFolderIdType (without Mailbox: the
// impersonation header selects the mailbox).
type distinguishedFolderID struct {
	ID string `xml:"Id,attr"` // DistinguishedFolderIdNameType
}

// reqItemID is ItemIdType.
type reqItemID struct {
	ID        string `xml:"Id,attr"`
	ChangeKey string `xml:"ChangeKey,attr,omitempty"`
}

// getFolderRequest is messages.xsd GetFolderType.
type getFolderRequest struct {
	XMLName     xml.Name            `xml:"m:GetFolder"`
	FolderShape folderResponseShape `xml:"m:FolderShape"`
	FolderIDs   struct {
		Distinguished []distinguishedFolderID `xml:"t:DistinguishedFolderId"`
	} `xml:"m:FolderIds"`
}

// syncFolderItemsRequest is messages.xsd SyncFolderItemsType: ItemShape,
// SyncFolderId, SyncState (absent on the first sync), MaxChangesReturned
// (MaxSyncChangesReturnedType, 1..512), SyncScope.
type syncFolderItemsRequest struct {
	XMLName      xml.Name          `xml:"m:SyncFolderItems"`
	ItemShape    itemResponseShape `xml:"m:ItemShape"`
	SyncFolderID struct {
		Distinguished *distinguishedFolderID `xml:"t:DistinguishedFolderId,omitempty"`
		FolderID      *reqItemID             `xml:"t:FolderId,omitempty"` // FolderIdType has the same attributes
	} `xml:"m:SyncFolderId"`
	SyncState          string `xml:"m:SyncState,omitempty"`
	MaxChangesReturned int    `xml:"m:MaxChangesReturned"`
	SyncScope          string `xml:"m:SyncScope,omitempty"` // SyncFolderItemsScopeType
}

// getItemRequest is messages.xsd GetItemType.
type getItemRequest struct {
	XMLName   xml.Name          `xml:"m:GetItem"`
	ItemShape itemResponseShape `xml:"m:ItemShape"`
	ItemIDs   struct {
		ItemID []reqItemID `xml:"t:ItemId"`
	} `xml:"m:ItemIds"`
}

// findItemRequest is messages.xsd FindItemType with a CalendarView
// (CalendarViewType).
type findItemRequest struct {
	XMLName      xml.Name          `xml:"m:FindItem"`
	Traversal    string            `xml:"Traversal,attr"` // ItemQueryTraversalType
	ItemShape    itemResponseShape `xml:"m:ItemShape"`
	CalendarView struct {
		MaxEntriesReturned int    `xml:"MaxEntriesReturned,attr,omitempty"`
		StartDate          string `xml:"StartDate,attr"`
		EndDate            string `xml:"EndDate,attr"`
	} `xml:"m:CalendarView"`
	ParentFolderIDs struct {
		Distinguished []distinguishedFolderID `xml:"t:DistinguishedFolderId"`
	} `xml:"m:ParentFolderIds"`
}

// subscribeRequest is messages.xsd SubscribeType with a
// StreamingSubscriptionRequestType (FolderIds, EventTypes).
type subscribeRequest struct {
	XMLName   xml.Name `xml:"m:Subscribe"`
	Streaming struct {
		FolderIDs struct {
			Distinguished []distinguishedFolderID `xml:"t:DistinguishedFolderId"`
		} `xml:"t:FolderIds"`
		EventTypes struct {
			EventType []string `xml:"t:EventType"` // NotificationEventTypeType
		} `xml:"t:EventTypes"`
	} `xml:"m:StreamingSubscriptionRequest"`
}

// getStreamingEventsRequest is messages.xsd GetStreamingEventsType:
// t:SubscriptionId inside m:SubscriptionIds (NonEmptyArrayOfSubscriptionIdsType)
// and m:ConnectionTimeout in minutes (StreamingSubscriptionConnectionTimeoutType, 1..30).
type getStreamingEventsRequest struct {
	XMLName           xml.Name `xml:"m:GetStreamingEvents"`
	SubscriptionIDs   []string `xml:"m:SubscriptionIds>t:SubscriptionId"`
	ConnectionTimeout int      `xml:"m:ConnectionTimeout"`
}

// unsubscribeRequest is messages.xsd UnsubscribeType.
type unsubscribeRequest struct {
	XMLName        xml.Name `xml:"m:Unsubscribe"`
	SubscriptionID string   `xml:"m:SubscriptionId"`
}

// ---- replies (matched by local name) ----

// soapFault is a SOAP 1.1 Fault; EWS puts ResponseCode, Message and
// MessageXml (Value Name="BackOffMilliseconds" for ErrorServerBusy) in
// detail.
type soapFault struct {
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
	Detail      struct {
		ResponseCode string     `xml:"ResponseCode"`
		Message      string     `xml:"Message"`
		MessageXML   messageXML `xml:"MessageXml"`
	} `xml:"detail"`
}

// messageXML is the MessageXml of ResponseMessageType (xs:any) or of a
// fault's detail: a list of t:Value Name="…" elements.
type messageXML struct {
	Values []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"Value"`
}

func (m messageXML) value(name string) string {
	for _, v := range m.Values {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// responseMessage is messages.xsd ResponseMessageType.
type responseMessage struct {
	ResponseClass string     `xml:"ResponseClass,attr"` // ResponseClassType: Success, Warning, Error
	MessageText   string     `xml:"MessageText"`
	ResponseCode  string     `xml:"ResponseCode"` // ResponseCodeType
	MessageXML    messageXML `xml:"MessageXml"`
}

// respItemID is ItemIdType / FolderIdType in a reply.
type respItemID struct {
	ID        string `xml:"Id,attr"`
	ChangeKey string `xml:"ChangeKey,attr"`
}

// getFolderResponse follows GetFolderResponseType / FolderInfoResponseMessageType.
type getFolderResponse struct {
	Fault    *soapFault `xml:"Body>Fault"`
	Messages []struct {
		responseMessage
		Folders []struct {
			XMLName    xml.Name
			FolderID   respItemID `xml:"FolderId"`
			TotalCount int        `xml:"TotalCount"`
		} `xml:"Folders>CalendarFolder"`
	} `xml:"Body>GetFolderResponse>ResponseMessages>GetFolderResponseMessage"`
}

// syncFolderItemsResponse follows SyncFolderItemsResponseMessageType; the
// Changes (SyncFolderItemsChangesType) keep their document order.
type syncFolderItemsResponse struct {
	Fault    *soapFault               `xml:"Body>Fault"`
	Messages []syncFolderItemsMessage `xml:"Body>SyncFolderItemsResponse>ResponseMessages>SyncFolderItemsResponseMessage"`
}

type syncFolderItemsMessage struct {
	responseMessage
	SyncState               string      `xml:"SyncState"`
	IncludesLastItemInRange *bool       `xml:"IncludesLastItemInRange"`
	Changes                 syncChanges `xml:"Changes"`
}

// getItemResponse follows GetItemResponseType / ItemInfoResponseMessageType.
type getItemResponse struct {
	Fault    *soapFault `xml:"Body>Fault"`
	Messages []struct {
		responseMessage
		Items []wireCalendarItem `xml:"Items>CalendarItem"`
	} `xml:"Body>GetItemResponse>ResponseMessages>GetItemResponseMessage"`
}

// findItemResponse follows FindItemResponseMessageType / FindItemParentType.
type findItemResponse struct {
	Fault    *soapFault `xml:"Body>Fault"`
	Messages []struct {
		responseMessage
		RootFolder struct {
			TotalItemsInView        int                `xml:"TotalItemsInView,attr"`
			IncludesLastItemInRange bool               `xml:"IncludesLastItemInRange,attr"`
			Items                   []wireCalendarItem `xml:"Items>CalendarItem"`
		} `xml:"RootFolder"`
	} `xml:"Body>FindItemResponse>ResponseMessages>FindItemResponseMessage"`
}

// subscribeResponse follows SubscribeResponseMessageType.
type subscribeResponse struct {
	Fault    *soapFault `xml:"Body>Fault"`
	Messages []struct {
		responseMessage
		SubscriptionID string `xml:"SubscriptionId"`
	} `xml:"Body>SubscribeResponse>ResponseMessages>SubscribeResponseMessage"`
}

// unsubscribeResponse follows UnsubscribeResponseType.
type unsubscribeResponse struct {
	Fault    *soapFault        `xml:"Body>Fault"`
	Messages []responseMessage `xml:"Body>UnsubscribeResponse>ResponseMessages>UnsubscribeResponseMessage"`
}

// streamingEnvelope is one envelope of a GetStreamingEvents reply
// (GetStreamingEventsResponseMessageType). Notification and the
// SubscriptionId in ErrorSubscriptionIds arrive as m: on the wire although
// types.xsd declares t: (NonEmptyArrayOfNotificationsType); local names match
// both.
type streamingEnvelope struct {
	Fault    *soapFault `xml:"Body>Fault"`
	Messages []struct {
		responseMessage
		Notifications []struct {
			SubscriptionID string      `xml:"SubscriptionId"`
			Events         []wireEvent `xml:",any"`
		} `xml:"Notifications>Notification"`
		ErrorSubscriptionIDs []string `xml:"ErrorSubscriptionIds>SubscriptionId"`
		ConnectionStatus     string   `xml:"ConnectionStatus"` // ConnectionStatusType: OK, Closed
	} `xml:"Body>GetStreamingEventsResponse>ResponseMessages>GetStreamingEventsResponseMessage"`
}

// wireEvent is one BaseNotificationEventType (CreatedEvent, ModifiedEvent,
// DeletedEvent, MovedEvent, CopiedEvent, NewMailEvent, StatusEvent, …).
type wireEvent struct {
	XMLName        xml.Name
	TimeStamp      string      `xml:"TimeStamp"`
	ItemID         *respItemID `xml:"ItemId"`
	FolderID       *respItemID `xml:"FolderId"`
	ParentFolderID *respItemID `xml:"ParentFolderId"`
	OldItemID      *respItemID `xml:"OldItemId"`
}

// wireCalendarItem is types.xsd CalendarItemType (with the ItemType fields
// ExoCal asks for).
type wireCalendarItem struct {
	ItemID                     respItemID       `xml:"ItemId"`
	Subject                    string           `xml:"Subject"`
	Sensitivity                string           `xml:"Sensitivity"` // SensitivityChoicesType
	Body                       *wireBody        `xml:"Body"`
	Categories                 []string         `xml:"Categories>String"`
	ReminderIsSet              *bool            `xml:"ReminderIsSet"`
	ReminderMinutesBeforeStart *int             `xml:"ReminderMinutesBeforeStart"`
	LastModifiedTime           string           `xml:"LastModifiedTime"`
	UID                        string           `xml:"UID"`
	Start                      string           `xml:"Start"`
	End                        string           `xml:"End"`
	OriginalStart              string           `xml:"OriginalStart"`
	IsAllDayEvent              bool             `xml:"IsAllDayEvent"`
	LegacyFreeBusyStatus       string           `xml:"LegacyFreeBusyStatus"` // LegacyFreeBusyType
	Location                   string           `xml:"Location"`
	IsMeeting                  bool             `xml:"IsMeeting"`
	IsCancelled                bool             `xml:"IsCancelled"`
	CalendarItemType           string           `xml:"CalendarItemType"` // CalendarItemTypeType
	Organizer                  *wireMailbox     `xml:"Organizer>Mailbox"`
	RequiredAttendees          []wireAttendee   `xml:"RequiredAttendees>Attendee"`
	OptionalAttendees          []wireAttendee   `xml:"OptionalAttendees>Attendee"`
	Resources                  []wireAttendee   `xml:"Resources>Attendee"`
	AppointmentSequenceNumber  int              `xml:"AppointmentSequenceNumber"`
	Recurrence                 *wireRecurrence  `xml:"Recurrence"`
	ModifiedOccurrences        []wireOccurrence `xml:"ModifiedOccurrences>Occurrence"`
	DeletedOccurrences         []string         `xml:"DeletedOccurrences>DeletedOccurrence>Start"`
	StartTimeZone              *wireTimeZoneDef `xml:"StartTimeZone"`
	EndTimeZone                *wireTimeZoneDef `xml:"EndTimeZone"`
	EndTimeZoneID              string           `xml:"EndTimeZoneId"`
}

// wireBody is BodyType (xs:string with a BodyType attribute).
type wireBody struct {
	BodyType string `xml:"BodyType,attr"`
	Text     string `xml:",chardata"`
}

// wireMailbox is EmailAddressType.
type wireMailbox struct {
	Name         string `xml:"Name"`
	EmailAddress string `xml:"EmailAddress"`
	RoutingType  string `xml:"RoutingType"`
}

// wireAttendee is AttendeeType.
type wireAttendee struct {
	Mailbox      wireMailbox `xml:"Mailbox"`
	ResponseType string      `xml:"ResponseType"` // ResponseTypeType
}

// wireOccurrence is OccurrenceInfoType.
type wireOccurrence struct {
	ItemID        respItemID `xml:"ItemId"`
	Start         string     `xml:"Start"`
	End           string     `xml:"End"`
	OriginalStart string     `xml:"OriginalStart"`
}

// wireRecurrence is RecurrenceType: one of the RecurrencePatternTypes group
// and one of the RecurrenceRangeTypes group.
type wireRecurrence struct {
	RelativeYearly  *wirePattern `xml:"RelativeYearlyRecurrence"`
	AbsoluteYearly  *wirePattern `xml:"AbsoluteYearlyRecurrence"`
	RelativeMonthly *wirePattern `xml:"RelativeMonthlyRecurrence"`
	AbsoluteMonthly *wirePattern `xml:"AbsoluteMonthlyRecurrence"`
	Weekly          *wirePattern `xml:"WeeklyRecurrence"`
	Daily           *wirePattern `xml:"DailyRecurrence"`

	NoEnd    *wireRange `xml:"NoEndRecurrence"`
	EndDate  *wireRange `xml:"EndDateRecurrence"`
	Numbered *wireRange `xml:"NumberedRecurrence"`
}

// wirePattern holds the fields of the six *RecurrencePatternType types
// (IntervalRecurrencePatternBaseType.Interval, DaysOfWeek — a DaysOfWeekType
// list for Weekly, one DayOfWeekType for the relative patterns —,
// FirstDayOfWeek, DayOfMonth, DayOfWeekIndex, Month).
type wirePattern struct {
	Interval       int    `xml:"Interval"`
	DaysOfWeek     string `xml:"DaysOfWeek"`
	FirstDayOfWeek string `xml:"FirstDayOfWeek"`
	DayOfMonth     int    `xml:"DayOfMonth"`
	DayOfWeekIndex string `xml:"DayOfWeekIndex"`
	Month          string `xml:"Month"`
}

// wireRange holds RecurrenceRangeBaseType.StartDate (xs:date, possibly with
// a zone suffix such as "2014-03-08-08:00") and the EndDate /
// NumberOfOccurrences of the end-date and numbered ranges.
type wireRange struct {
	StartDate           string `xml:"StartDate"`
	EndDate             string `xml:"EndDate"`
	NumberOfOccurrences int    `xml:"NumberOfOccurrences"`
}

// wireTimeZoneDef is TimeZoneDefinitionType.
type wireTimeZoneDef struct {
	ID                string           `xml:"Id,attr"`
	Name              string           `xml:"Name,attr"`
	Periods           []wirePeriod     `xml:"Periods>Period"`
	TransitionsGroups []wireTransGroup `xml:"TransitionsGroups>TransitionsGroup"`
	Transitions       *struct {
		List []wireTransition `xml:",any"`
	} `xml:"Transitions"`

	// conv is the conversion of a cached definition (see zoneCache);
	// such a value is shared and must not be changed.
	conv *calendar.TimeZone
}

// clone returns a deep copy of z without its cached conversion.
func (z *wireTimeZoneDef) clone() *wireTimeZoneDef {
	c := *z
	c.conv = nil
	c.Periods = append([]wirePeriod(nil), z.Periods...)
	c.TransitionsGroups = nil
	for _, g := range z.TransitionsGroups {
		g.Transitions = append([]wireTransition(nil), g.Transitions...)
		c.TransitionsGroups = append(c.TransitionsGroups, g)
	}
	if z.Transitions != nil {
		c.Transitions = &struct {
			List []wireTransition `xml:",any"`
		}{List: append([]wireTransition(nil), z.Transitions.List...)}
	}
	return &c
}

// wirePeriod is PeriodType (Bias is an xs:duration west of UTC).
type wirePeriod struct {
	Bias string `xml:"Bias,attr"`
	Name string `xml:"Name,attr"`
	ID   string `xml:"Id,attr"`
}

// wireTransGroup is ArrayOfTransitionsType as a TransitionsGroup: its
// children are Transition, AbsoluteDateTransition, RecurringDayTransition
// or RecurringDateTransition.
type wireTransGroup struct {
	ID          string           `xml:"Id,attr"`
	Transitions []wireTransition `xml:",any"`
}

// wireTransition holds the fields of TransitionType and its extensions
// (RecurringTimeTransitionType: TimeOffset, Month; RecurringDayTransitionType:
// DayOfWeek, Occurrence; AbsoluteDateTransitionType: DateTime).
type wireTransition struct {
	XMLName    xml.Name
	To         wireTransitionTarget `xml:"To"`
	TimeOffset string               `xml:"TimeOffset"`
	Month      int                  `xml:"Month"`
	DayOfWeek  string               `xml:"DayOfWeek"`
	Occurrence int                  `xml:"Occurrence"`
	DateTime   string               `xml:"DateTime"`
}

// wireTransitionTarget is TransitionTargetType (Kind Period or Group).
type wireTransitionTarget struct {
	Kind  string `xml:"Kind,attr"`
	Value string `xml:",chardata"`
}

// syncChange is one child of SyncFolderItemsChangesType: Create or Update
// (holding an item of any kind with its ItemId), Delete, or ReadFlagChange
// (holding the ItemId directly).
type syncChange struct {
	Kind      ChangeKind
	ItemKind  string // local name of the item element (CalendarItem, Message, ...); "" for Delete/ReadFlagChange
	ItemID    string
	ChangeKey string
}

// syncChanges keeps the Changes in document order.
type syncChanges []syncChange

func (c *syncChanges) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			kind, ok := changeKindOf(t.Name.Local)
			if !ok {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			var raw struct {
				ItemID *respItemID `xml:"ItemId"`
				Items  []struct {
					XMLName xml.Name
					ItemID  respItemID `xml:"ItemId"`
				} `xml:",any"`
			}
			if err := d.DecodeElement(&raw, &t); err != nil {
				return err
			}
			ch := syncChange{Kind: kind}
			if raw.ItemID != nil {
				ch.ItemID, ch.ChangeKey = raw.ItemID.ID, raw.ItemID.ChangeKey
			} else if len(raw.Items) > 0 {
				ch.ItemKind = raw.Items[0].XMLName.Local
				ch.ItemID, ch.ChangeKey = raw.Items[0].ItemID.ID, raw.Items[0].ItemID.ChangeKey
			}
			*c = append(*c, ch)
		}
	}
}
