// Sensitive categories (issue 8): mental health and therapy notes, HIV and sexual health,
// pregnancy, genetics. A resource is sensitive by its meta.security labels; seeing it needs an
// explicit permission of the account for each of its categories, on top of the care relation
// (or break-the-glass grant) that lets the account open the patient at all. Patients always
// see their own. A break-the-glass grant opens no category.
//
// The labels (meta.security codings) and their categories:
//   http://terminology.hl7.org/CodeSystem/v3-ActCode (HL7 v3 InformationSensitivityPolicy)
//     PSY      psychiatry information sensitivity           mental_health
//     PSYTHPN  psychotherapy note information sensitivity   mental_health
//     MH       mental health information sensitivity        mental_health
//     HIV      HIV/AIDS information sensitivity             sexual_health
//     STD      sexually transmitted disease information     sexual_health
//     SEX      sexuality and reproductive health            sexual_health
//     SDV      sexual assault, abuse, domestic violence     sexual_health
//     GDIS     genetic disease information sensitivity      genetics
//   urn:medvault:sensitivity (medvault's own, for what HL7 v3 has no code for)
//     mental_health, sexual_health, pregnancy, genetics     the category of that name
// HL7 v3 has no pregnancy code: a pregnancy record is labelled urn:medvault:sensitivity|
// pregnancy. Other labels (confidentiality R, V, ...) make no category.
//
// The category lives only inside the encrypted resource, never in clear in the store (case 2
// of THREATS.md): the records layer checks it after decrypting, as it does release
// (policy/release.h), and answers what the caller may not see as absent.
//
// Pure functions: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "policy/decider.h"

namespace medvault::policy {

enum class SensitiveCategory { kMentalHealth, kSexualHealth, kPregnancy, kGenetics };

inline constexpr SensitiveCategory kSensitiveCategories[] = {
    SensitiveCategory::kMentalHealth, SensitiveCategory::kSexualHealth,
    SensitiveCategory::kPregnancy, SensitiveCategory::kGenetics};

inline constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
inline constexpr std::string_view kSensitivitySystem = "urn:medvault:sensitivity";

// "mental_health", "sexual_health", "pregnancy", "genetics", and back.
std::string_view SensitiveCategoryName(SensitiveCategory category);
std::optional<SensitiveCategory> SensitiveCategoryFromName(std::string_view name);

// The category of one security label, or nullopt for a label that makes none.
std::optional<SensitiveCategory> CategoryOfLabel(std::string_view system, std::string_view code);

// The categories of `resource`'s meta.security labels, each once, in kSensitiveCategories
// order.
std::vector<SensitiveCategory> SensitiveCategoriesOf(const boost::json::object& resource);

// The categories of `resource` the principal has no permission for
// (Principal::sensitive_categories), in kSensitiveCategories order; none for a patient (their
// own record: the Decider decided that).
std::vector<SensitiveCategory> MissingPermissions(const Principal& principal,
                                                  const boost::json::object& resource);

// Whether the principal may see `resource`: no category of it is missing. The same rule
// governs writes: nobody changes, deletes or labels what they could not see.
bool MayViewSensitive(const Principal& principal, const boost::json::object& resource);

// Whether the principal holds every category (a patient, or staff granted all four): then no
// resource is withheld from them and its content need not be opened to know it.
bool HoldsEveryCategory(const Principal& principal);

}  // namespace medvault::policy
