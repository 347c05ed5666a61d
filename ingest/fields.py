"""Canonical fields of each feed kind: which are required, and their length limits."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEADER_SYNONYMS", "KINDS", "VALUE_HEADERS", "FieldSpec", "fields_of", "required_of"]

KINDS = ("facilities", "shipments")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    required: bool
    max_len: int | None = None  # database column length; longer values quarantine the row


_SHIPMENTS = (
    FieldSpec("shipment_id", True, 200),
    FieldSpec("date", True),
    FieldSpec("exporter", True),
    FieldSpec("exporter_country", True),
    FieldSpec("importer", True),
    FieldSpec("importer_country", True),
    FieldSpec("product", True),
    FieldSpec("quantity", True),
    FieldSpec("unit", True),  # optional when options.default_unit is set
    FieldSpec("cas", False, 64),
    FieldSpec("hs_code", False, 32),
    FieldSpec("flow", False),
    FieldSpec("consignment_ref", False, 200),
    FieldSpec("transit_countries", False),
    FieldSpec("value", False),  # declared customs value, in `currency`
    FieldSpec("currency", False),  # ISO 4217 once read (symbols and names are read too)
    FieldSpec("exporter_address", False),
    FieldSpec("importer_address", False),
    FieldSpec("source", False, 200),  # per-row reporting authority, when a feed carries one
)

_FACILITIES = (
    FieldSpec("facility_id", True, 100),
    FieldSpec("name", True),
    FieldSpec("country", True),
    FieldSpec("activity", True),
    FieldSpec("substance", True),
    FieldSpec("cas", False, 32),
    FieldSpec("declared_annual_kg", True),
    FieldSpec("address", False),
    FieldSpec("declaration_year", False),
    FieldSpec("lat", False),
    FieldSpec("lon", False),
)


def fields_of(kind: str) -> tuple[FieldSpec, ...]:
    """The canonical fields of `kind` ('facilities' or 'shipments')."""
    if kind == "shipments":
        return _SHIPMENTS
    if kind == "facilities":
        return _FACILITIES
    raise ValueError(f"unknown kind {kind!r}: use facilities or shipments")


def required_of(kind: str) -> list[str]:
    return [f.name for f in fields_of(kind) if f.required]


# Header names of a customs value column (keys as below), in English, Spanish, Portuguese,
# French and German; also the stems of a value header that names its currency ("Value (USD)",
# "FOB USD", "Zollwert in EUR": see ingest.profile.value_header_currency), where a bare
# "FOB" or "CIF" counts too (alone it may head a column of Incoterms).
VALUE_HEADERS = (
    "value", "customsvalue", "declaredvalue", "declaredcustomsvalue", "fobvalue", "valuefob",
    "cifvalue", "valuecif", "invoicevalue", "valor", "valeur", "wert", "valueofgoods", "goodsvalue",
    "statisticalvalue", "tradevalue", "totalvalue", "customsvalueamount", "valueamount",
    "valorenaduana", "valoraduana", "valoraduanero", "valorenaduanas", "valorfob", "valorcif",
    "valordeclarado", "valorfactura", "valordefactura", "valoraduaneiro", "valordafatura",
    "valordamercadoria", "valeurendouane", "valeurdouane", "valeurfob", "valeurcaf",
    "valeurdeclaree", "valeurfacture", "valeurstatistique", "zollwert", "rechnungswert",
    "statistischerwert", "warenwert", "fobwert", "cifwert",
)  # fmt: skip

# Header names national feeds commonly use for a canonical field, as canonical keys (case,
# spaces, underscores, dashes and dots ignored). Used without a profile, only when the field
# has no column of its own name and exactly one column carries one of these names; the load
# reports each such choice. Kept conservative: "origin" is not the exporting country, a bare
# "quantity" of a declaration carries no unit, so neither is guessed.
HEADER_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "shipments": {
        "shipment_id": ("shipmentno", "shipmentnumber", "shipmentref", "recordid", "recordno",
                        "declarationno", "declarationnumber", "declno", "entryno", "entrynumber",
                        "transactionid", "id"),
        "date": ("shipmentdate", "shipdate", "dateofshipment", "declarationdate",
                 "transactiondate", "exportdate", "importdate"),
        "exporter": ("exportername", "shipper", "shippername", "consignor", "consignorname",
                     "seller"),
        "importer": ("importername", "consignee", "consigneename", "buyer"),
        "exporter_country": ("exportcountry", "exportingcountry", "countryofexport",
                             "shippercountry", "consignorcountry", "sellercountry"),
        "importer_country": ("importcountry", "importingcountry", "countryofimport",
                             "destinationcountry", "countryofdestination", "consigneecountry",
                             "buyercountry"),
        "product": ("productdescription", "productname", "description", "goodsdescription",
                    "descriptionofgoods", "commodity", "commoditydescription", "goods"),
        "quantity": ("qty", "netquantity", "netqty", "quantitydeclared", "quantityvalue",
                     "quantityamount", "qtyvalue"),
        "unit": ("uom", "unitofmeasure", "unitofmeasurement", "units", "qtyunit",
                 "quantityunit", "measurementunit"),
        "cas": ("casno", "casnumber", "casrn", "casregistrynumber", "cas#", "casno#"),
        "hs_code": ("hs", "hts", "htscode", "hsheading", "tariffcode", "commoditycode",
                    "customscode"),
        "flow": ("direction", "tradeflow", "flowtype", "tradedirection"),
        "consignment_ref": ("consignment", "consignmentno", "consignmentnumber", "consignmentid",
                            "pen", "penno", "pennumber", "penref", "preexportnotification",
                            "billoflading", "blno", "blnumber", "b/lno", "b/lnumber"),
        "transit_countries": ("transit", "transitcountry", "transitcountries", "via"),
        "value": VALUE_HEADERS,
        "currency": ("curr", "cur", "ccy", "currencycode", "valuecurrency", "invoicecurrency",
                     "customsvaluecurrency", "currencyofvalue"),
        "exporter_address": ("exporteraddress", "exportersaddress", "addressofexporter",
                             "shipperaddress", "shippersaddress", "addressofshipper",
                             "consignoraddress", "consignorsaddress", "selleraddress",
                             "exporteraddr", "shipperaddr"),
        "importer_address": ("importeraddress", "importersaddress", "addressofimporter",
                             "consigneeaddress", "consigneesaddress", "addressofconsignee",
                             "buyeraddress", "importeraddr", "consigneeaddr"),
    },
    "facilities": {
        "facility_id": ("facilityno", "facilitynumber", "facilitycode", "registrationno",
                        "registrationnumber", "registrationid", "licenceno", "licenseno",
                        "licencenumber", "licensenumber", "id"),
        "name": ("facilityname", "companyname", "company", "operator", "operatorname"),
        "country": ("facilitycountry", "countrycode", "countryname"),
        "activity": ("activitytype", "declaredactivity", "typeofactivity"),
        "substance": ("substancename", "chemical", "chemicalname", "precursor"),
        "cas": ("casno", "casnumber", "casrn", "casregistrynumber", "cas#"),
        "declared_annual_kg": ("declaredkg", "annualkg", "declaredquantitykg",
                               "annualquantitykg", "declaredannualquantitykg", "kgperyear",
                               "declaredannualkgs"),
        "declaration_year": ("year", "reportingyear", "declaredyear"),
        "lat": ("latitude",),
        "lon": ("longitude", "lng", "long"),
    },
}  # fmt: skip

# The same fields as the feeds of Spanish-, Portuguese-, French- and German-speaking
# authorities head them (keys as above, accents also ignored). Merged into HEADER_SYNONYMS
# below; the same rules apply (only an unmapped field, only one candidate column). The
# country of origin is still never taken for the exporting country.
_FOREIGN: dict[str, dict[str, tuple[str, ...]]] = {
    "shipments": {
        "shipment_id": ("numerodedeclaracion", "nodedeclaracion", "numerodeclaracion",
                        "numerodedeclaracao", "numerodedeclaration", "anmeldenummer",
                        "registriernummer"),
        "date": ("fecha", "fechadeembarque", "fechadeexportacion", "fechadedeclaracion",
                 "data", "datadeembarque", "datadeexportacao", "dateexpedition",
                 "datedexpedition", "datum", "versanddatum", "ausfuhrdatum"),
        "exporter": ("exportador", "remitente", "expedidor", "exportateur", "expediteur",
                     "exporteur", "ausfuhrer", "versender", "absender"),
        "importer": ("importador", "destinatario", "consignatario", "importateur",
                     "destinataire", "importeur", "empfanger"),
        "exporter_country": ("paisexportador", "paisdeexportacion", "paisdeexportacao",
                             "paysexportateur", "paysdexportation", "ausfuhrland",
                             "exportland"),
        "importer_country": ("paisimportador", "paisdedestino", "paisdestino",
                             "paisdeimportacion", "paisdeimportacao", "paysimportateur",
                             "paysdedestination", "bestimmungsland", "einfuhrland",
                             "importland"),
        "product": ("descripcion", "descripciondelamercancia", "mercancia", "producto",
                    "descricao", "descricaodamercadoria", "mercadoria", "produto",
                    "designation", "designationdesmarchandises", "marchandise", "produit",
                    "warenbezeichnung", "warenbeschreibung", "ware", "produkt"),
        "quantity": ("cantidad", "cantidadneta", "quantidade", "quantite", "menge",
                     "nettomenge"),
        "unit": ("unidad", "unidaddemedida", "unidade", "unidadedemedida", "unite",
                 "unitedemesure", "einheit", "mengeneinheit", "masseinheit"),
        "cas": ("numerocas", "nocas", "ncas", "casnummer", "numerodecas"),
        "hs_code": ("codigoarancelario", "partidaarancelaria", "fraccionarancelaria", "ncm",
                    "codigosa", "codesh", "nomenclature", "taric", "zolltarifnummer",
                    "warennummer"),
        "flow": ("flujo", "fluxo", "flux", "sentido", "tipodeoperacion", "richtung"),
        "consignment_ref": ("conocimientodeembarque", "conhecimentodeembarque", "connaissement",
                            "frachtbrief", "frachtbriefnummer"),
        "currency": ("moneda", "divisa", "moeda", "devise", "monnaie", "wahrung", "valuta",
                     "codigodemoneda", "codigodamoeda", "codedevise", "wahrungscode"),
        "exporter_address": ("direcciondelexportador", "direccionexportador",
                             "domiciliodelexportador", "direcciondelremitente",
                             "direcciondelexpedidor", "enderecodoexportador",
                             "enderecoexportador", "enderecodoremetente",
                             "adressedelexportateur", "adresseexportateur",
                             "adressedelexpediteur", "anschriftdesausfuhrers",
                             "ausfuhreranschrift", "exporteuranschrift", "anschriftdesexporteurs",
                             "absenderanschrift", "anschriftdesabsenders", "versenderanschrift",
                             "anschriftdesversenders", "absenderadresse"),
        "importer_address": ("direcciondelimportador", "direccionimportador",
                             "domiciliodelimportador", "direcciondeldestinatario",
                             "direcciondelconsignatario", "enderecodoimportador",
                             "enderecoimportador", "enderecododestinatario",
                             "adressedelimportateur", "adresseimportateur",
                             "adressedudestinataire", "anschriftdesimporteurs",
                             "importeuranschrift", "anschriftdesempfangers", "empfangeranschrift",
                             "empfangeradresse"),
    },
    "facilities": {
        "facility_id": ("numerodelicencia", "numeroderegistro", "licencia", "registro",
                        "numerodelicenca", "numerodelicence", "numerodenregistrement",
                        "genehmigungsnummer", "registernummer"),
        "name": ("razonsocial", "empresa", "nombredelaempresa", "razaosocial", "raisonsociale",
                 "entreprise", "firma", "unternehmen", "firmenname"),
        "country": ("pais", "pays", "land"),
        "activity": ("actividad", "atividade", "activite", "tatigkeit"),
        "substance": ("sustancia", "substancia", "sustanciaquimica", "substancequimique",
                      "stoff", "chemikalie"),
        "cas": ("numerocas", "nocas", "ncas", "casnummer", "numerodecas"),
        "declaration_year": ("ano", "annee", "jahr", "ejercicio"),
    },
}  # fmt: skip
for _kind, _fields in _FOREIGN.items():
    for _name, _keys in _fields.items():
        HEADER_SYNONYMS[_kind][_name] = HEADER_SYNONYMS[_kind].get(_name, ()) + _keys
