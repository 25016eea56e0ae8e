// ORU^R01 (HL7 v2.5, unsolicited observation results) to a FHIR R4 transaction Bundle, the
// same form `POST /fhir` accepts (fhir/bundle.h, records::ClinicalRecords::Process).
//
// Mapping (one patient per message, one DiagnosticReport per OBR):
//   MSH-4        Organization (the lab), conditional create on its identifier; the reports'
//                performer.
//   PID          Patient, conditional create (ifNoneExist) on the first PID-3 identifier;
//                name (PID-5), birth date (PID-7), sex (PID-8), address (PID-11), phone and
//                e-mail (PID-13) are used only when the patient is new.
//   ORC-12 / OBR-16  the ordering Practitioner, conditional create on its identifier, listed
//                after the lab in DiagnosticReport.performer (R4 has no orderer element and
//                medvault serves no ServiceRequest).
//   OBR          DiagnosticReport, PUT under an id derived from the lab and the order number
//                (OBR-3, else OBR-2, else MSH-10 and the OBR's position): a corrected result
//                for the same order becomes the report's next version. Status from OBR-25
//                (P preliminary, F final, C corrected; absent: preliminary), code OBR-4,
//                effective OBR-7, category LAB, NTE after it: conclusion.
//   OBX          Observation, PUT under the report's id and the OBX's position: NM and SN
//                (valueQuantity, OBX-6 units, UCUM when coded so), CE/CWE (valueCodeableConcept),
//                ST/TX/FT (valueString); code OBX-3, reference range OBX-7, abnormal flags
//                OBX-8 (v3 ObservationInterpretation), status OBX-11, effective OBX-14; NTE
//                after it: note.
// HL7 TS values with a time but no UTC offset keep their date only (FHIR dateTime needs the
// offset when a time is given).
//
// Failures: an Hl7Error naming the segment, field and problem, never a value.
// Thread-safe: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "lab/hl7.h"

namespace medvault::lab {

// What MSH says, for the acknowledgement and the duplicate check.
struct MessageHeader {
  std::string sending_application;    // MSH-3.1
  std::string sending_facility;       // MSH-4.1, or MSH-4.2 when it has no namespace
  std::string receiving_application;  // MSH-5.1
  std::string receiving_facility;     // MSH-6.1
  std::string control_id;             // MSH-10
  std::string processing_id;          // MSH-11.1
  std::string version;                // MSH-12.1
  std::string message_code;           // MSH-9.1
  std::string trigger_event;          // MSH-9.2
};

inline constexpr std::size_t kMaxControlIdBytes = 199;

// The MSH fields of a message as sent, without ReadHeader's checks: what an acknowledgement
// of a refused message echoes.
MessageHeader HeaderOf(const Message& message);

// Reads MSH (HeaderOf) and checks what medvault accepts: MSH-9 ORU^R01 (kUnsupportedMessageType /
// kUnsupportedEventCode), MSH-12 2.5 or 2.5.x (kUnsupportedVersion), MSH-11 P, T or D,
// MSH-10 and MSH-4 present.
Hl7Result<MessageHeader> ReadHeader(const Message& message);

// The transaction Bundle of a parsed ORU^R01 whose header ReadHeader accepted.
Hl7Result<boost::json::object> MapOru(const Message& message, const MessageHeader& header);

}  // namespace medvault::lab
