import { FhirXmlError, fhirXmlToJson } from './fhir-xml';

const NS = 'xmlns="http://hl7.org/fhir"';

test('repetition, primitive types and extensions on primitives follow the R4 definitions', () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
  <Patient ${NS}>
    <id value="p1"/>
    <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Synthetic &amp; <b>test</b></p></div></text>
    <active value="true"/>
    <name><family value="Example"/><given value="Ann"/></name>
    <birthDate value="1950-02-03"><extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime"><valueDateTime value="1950-02-03T04:05:00Z"/></extension></birthDate>
    <multipleBirthInteger value="2"/>
    <contact><name><given id="g1" value="Bo"/><given value="Cy"/></name></contact>
  </Patient>`;
  expect(fhirXmlToJson(xml)).toEqual({
    resourceType: 'Patient',
    id: 'p1',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Synthetic &amp; <b>test</b></p></div>' },
    active: true,
    name: [{ family: 'Example', given: ['Ann'] }],
    birthDate: '1950-02-03',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1950-02-03T04:05:00Z' }] },
    multipleBirthInteger: 2,
    contact: [{ name: { given: ['Bo', 'Cy'], _given: [{ id: 'g1' }, null] } }],
  });
});

test('resources inside resources, backbone elements and content references', () => {
  const xml = `<Bundle ${NS}><type value="collection"/>
    <entry><fullUrl value="urn:uuid:1"/><resource><Questionnaire><status value="draft"/>
      <item><linkId value="a"/><type value="group"/><item><linkId value="a.1"/><type value="decimal"/><initial><valueDecimal value="1.50"/></initial></item></item>
    </Questionnaire></resource></entry></Bundle>`;
  expect(fhirXmlToJson(xml)).toEqual({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:1',
        resource: { resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: 'a', type: 'group', item: [{ linkId: 'a.1', type: 'decimal', initial: [{ valueDecimal: 1.5 }] }] }] },
      },
    ],
  });
});

test('what is not FHIR R4 is refused with the element path', () => {
  expect(() => fhirXmlToJson(`<Patient ${NS}><nickname value="x"/></Patient>`)).toThrow(new FhirXmlError('<nickname> is not an element of Patient', 'Patient.nickname'));
  expect(() => fhirXmlToJson(`<Patient ${NS}><active value="yes"/></Patient>`)).toThrow("Patient.active: 'yes' is not a boolean");
  expect(() => fhirXmlToJson(`<Patient ${NS}><gender value="male"/><gender value="female"/></Patient>`)).toThrow('Patient.gender: <gender> appears 2 times but may appear once');
  expect(() => fhirXmlToJson(`<Pateint ${NS}/>`)).toThrow('<Pateint> is not a FHIR R4 resource type');
});
