-- Reference data: tables the API reads, seeded below; changed only by later migrations.

CREATE TABLE regulated_activities (
    code            TEXT PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    schedule_number INTEGER NOT NULL UNIQUE CHECK (schedule_number BETWEEN 1 AND 99),
    name            TEXT NOT NULL
);

CREATE TABLE service_types (
    code          TEXT PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    name          TEXT NOT NULL,
    sector        TEXT NOT NULL CHECK (sector IN ('healthcare', 'social_care')),
    display_order INTEGER NOT NULL UNIQUE
);

CREATE TABLE service_user_bands (
    code          TEXT PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    name          TEXT NOT NULL,
    display_order INTEGER NOT NULL UNIQUE
);

-- Reference data from Schedule 1 of the Health and Social Care Act 2008 (Regulated Activities)
-- Regulations 2014 and the regulator's published service types and service-user bands.
-- Codes are stable API identifiers: never reuse or rename one; retire it in a new migration.

INSERT INTO regulated_activities (code, schedule_number, name) VALUES
    ('personal_care', 1, 'Personal care'),
    ('accommodation_nursing_or_personal_care', 2, 'Accommodation for persons who require nursing or personal care'),
    ('accommodation_substance_misuse_treatment', 3, 'Accommodation for persons who require treatment for substance misuse'),
    ('treatment_of_disease_disorder_or_injury', 4, 'Treatment of disease, disorder or injury'),
    ('mental_health_act_assessment_or_treatment', 5, 'Assessment or medical treatment for persons detained under the Mental Health Act 1983'),
    ('surgical_procedures', 6, 'Surgical procedures'),
    ('diagnostic_and_screening_procedures', 7, 'Diagnostic and screening procedures'),
    ('management_of_blood_supply', 8, 'Management of supply of blood and blood-derived products'),
    ('transport_triage_and_remote_medical_advice', 9, 'Transport services, triage and medical advice provided remotely'),
    ('maternity_and_midwifery', 10, 'Maternity and midwifery services'),
    ('termination_of_pregnancies', 11, 'Termination of pregnancies'),
    ('slimming_clinics', 12, 'Services in slimming clinics'),
    ('nursing_care', 13, 'Nursing care'),
    ('family_planning', 14, 'Family planning');

INSERT INTO service_types (code, name, sector, display_order) VALUES
    ('acute_with_overnight_beds', 'Acute services with overnight beds', 'healthcare', 1),
    ('acute_without_overnight_beds', 'Acute services without overnight beds / listed acute services with or without overnight beds', 'healthcare', 2),
    ('ambulance', 'Ambulance service', 'healthcare', 3),
    ('blood_and_transplant', 'Blood and transplant service', 'healthcare', 4),
    ('community_healthcare', 'Community healthcare service', 'healthcare', 5),
    ('community_learning_disability', 'Community-based services for people with a learning disability', 'healthcare', 6),
    ('community_mental_health', 'Community-based services for people with mental health needs', 'healthcare', 7),
    ('community_substance_misuse', 'Community-based services for people who misuse substances', 'healthcare', 8),
    ('dental', 'Dental service', 'healthcare', 9),
    ('diagnostic_and_screening', 'Diagnostic and/or screening service', 'healthcare', 10),
    ('diagnostic_and_screening_single_handed', 'Diagnostic and/or screening service - single handed sessional providers', 'healthcare', 11),
    ('doctors_consultation', 'Doctors consultation service', 'healthcare', 12),
    ('doctors_treatment', 'Doctors treatment service', 'healthcare', 13),
    ('hospice', 'Hospice services', 'healthcare', 14),
    ('hospice_at_home', 'Hospice services at home', 'healthcare', 15),
    ('hospital_mental_health_learning_disability_substance_misuse', 'Hospital services for people with mental health needs, learning disabilities and problems with substance misuse', 'healthcare', 16),
    ('hyperbaric_chamber', 'Hyperbaric chamber', 'healthcare', 17),
    ('long_term_conditions', 'Long term conditions services', 'healthcare', 18),
    ('mobile_doctors', 'Mobile doctors service', 'healthcare', 19),
    ('prison_healthcare', 'Prison healthcare services', 'healthcare', 20),
    ('rehabilitation', 'Rehabilitation services', 'healthcare', 21),
    ('remote_clinical_advice', 'Remote clinical advice service', 'healthcare', 22),
    ('residential_substance_misuse', 'Residential substance misuse treatment and rehabilitation service', 'healthcare', 23),
    ('urgent_care', 'Urgent care services', 'healthcare', 24),
    ('care_home_with_nursing', 'Care home service with nursing', 'social_care', 25),
    ('care_home_without_nursing', 'Care home service without nursing', 'social_care', 26),
    ('domiciliary_care', 'Domiciliary care service', 'social_care', 27),
    ('extra_care_housing', 'Extra Care housing services', 'social_care', 28),
    ('shared_lives', 'Shared Lives', 'social_care', 29),
    ('specialist_college', 'Specialist college service', 'social_care', 30),
    ('supported_housing', 'Supported housing service', 'social_care', 31),
    ('supported_living', 'Supported living service', 'social_care', 32);

INSERT INTO service_user_bands (code, name, display_order) VALUES
    ('adults_over_65', 'Caring for adults over 65 yrs', 1),
    ('adults_under_65', 'Caring for adults under 65 yrs', 2),
    ('children_0_to_18', 'Caring for children (0 - 18yrs)', 3),
    ('dementia', 'Dementia', 4),
    ('learning_disabilities_or_autism', 'Learning disabilities or autistic spectrum disorder', 5),
    ('mental_health_conditions', 'Mental health conditions', 6),
    ('physical_disability', 'Physical disability', 7),
    ('sensory_impairment', 'Sensory impairment', 8),
    ('detained_under_mental_health_act', 'People detained under the Mental Health Act', 9),
    ('substance_misuse', 'People who misuse drugs and alcohol', 10),
    ('eating_disorders', 'People with an eating disorder', 11),
    ('whole_population', 'Whole population', 12);
